namespace ClipSearch.Web.Services;

/// <summary>An image in the library.</summary>
/// <param name="Id">Opaque id (32 hex digits); the only way to reach the image over HTTP.</param>
/// <param name="FileName">The name it was uploaded with (display only).</param>
/// <param name="ContentType">image/jpeg, image/png, …</param>
/// <param name="AddedAt">When it was added.</param>
public sealed record LibraryImage(string Id, string FileName, string ContentType, DateTimeOffset AddedAt);

/// <summary>One search result.</summary>
/// <param name="Image">The image.</param>
/// <param name="Score">Cosine similarity with the query.</param>
public sealed record SearchHit(LibraryImage Image, float Score);

/// <summary>A page of results.</summary>
/// <param name="Total">Results at or above the minimum score.</param>
/// <param name="Offset">Index of the first hit in the ranking.</param>
/// <param name="Hits">The page, best first.</param>
public sealed record ResultPage(int Total, int Offset, IReadOnlyList<SearchHit> Hits);

/// <summary>
/// Where text→image and image→image search look. Now the session library (<see cref="SessionImageLibrary"/>);
/// the photo library (issue "library") can take its place behind this interface.
/// </summary>
public interface IImageSearch
{
    /// <summary>Images held.</summary>
    int Count { get; }

    /// <summary>Adds images (already checked to be images) and embeds them with <paramref name="model"/>.</summary>
    Task<IReadOnlyList<LibraryImage>> AddAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken);

    /// <summary>Images ranked by cosine with <paramref name="query"/> (a normalised embedding from <paramref name="model"/>).</summary>
    Task<ResultPage> SearchAsync(float[] query, LoadedModel model, SearchOptions options, CancellationToken cancellationToken);

    /// <summary>The image with <paramref name="id"/>, or null.</summary>
    LibraryImage? Find(string id);

    /// <summary>The stored embedding of <paramref name="id"/> for <paramref name="model"/> (embedding it now if needed), or null.</summary>
    Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken);

    /// <summary>
    /// The original bytes of <paramref name="id"/>, or null; dispose it once they are sent (a file read for it holds
    /// its size of the decode budget until then, so that downloads of large originals cannot fill the memory).
    /// </summary>
    Task<OriginalImage?> OriginalAsync(string id, CancellationToken cancellationToken);

    /// <summary>A JPEG thumbnail of <paramref name="id"/>, or null (made through the decode budget when not cached).</summary>
    Task<byte[]?> ThumbnailBytesAsync(string id, CancellationToken cancellationToken);

    /// <summary>The most recently added images, newest first.</summary>
    IReadOnlyList<LibraryImage> Recent(int count);
}

/// <summary>How many results and which.</summary>
/// <param name="K">Results per page.</param>
/// <param name="Offset">Results to skip (paging).</param>
/// <param name="MinScore">Lowest cosine kept.</param>
/// <param name="ExcludeId">An image to leave out (the query image of "more like this").</param>
public sealed record SearchOptions(int K, int Offset, float MinScore, string? ExcludeId = null);

/// <summary>An image's encoded bytes, and what they hold of a budget until disposed.</summary>
/// <param name="Bytes">The encoded image.</param>
/// <param name="Hold">Given back on dispose (null when the bytes are held anyway: an upload).</param>
public sealed record OriginalImage(byte[] Bytes, IDisposable? Hold = null) : IDisposable
{
    /// <summary>Gives back what the bytes hold.</summary>
    public void Dispose() => Hold?.Dispose();
}
