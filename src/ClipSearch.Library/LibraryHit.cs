using ClipSearch.Library.Storage;

namespace ClipSearch.Library;

/// <summary>A search result: the best-matching image, its score, and the other files with the same content.</summary>
/// <param name="Id">The image's id (see <see cref="IndexedImage"/>): what a front end names it by.</param>
/// <param name="Path">Its file (the first path, in ordinal order, of its content).</param>
/// <param name="Score">Cosine similarity to the query.</param>
/// <param name="Copies">Other files with byte-identical content.</param>
public sealed record LibraryHit(long Id, string Path, float Score, IReadOnlyList<string> Copies)
{
    /// <summary>The image's date taken, size, format, camera and place, or null when the library has not read them yet.</summary>
    public Core.Imaging.PhotoMetadata? Metadata { get; init; }

    /// <summary>The hit for a content's <paramref name="images"/> (ordinal order of paths, at least one).</summary>
    internal static LibraryHit Of(IReadOnlyList<IndexedImage> images, float score) =>
        new(images[0].Id, images[0].Path, score, [.. images.Skip(1).Select(i => i.Path)]) { Metadata = images[0].Metadata };
}
