namespace ClipSearch.Library.Indexing;

/// <summary>Files of one extension that a walk passed over.</summary>
/// <param name="Extension">The extension, lower-case with its dot (<c>.mov</c>); <c>""</c> for names without one.</param>
/// <param name="Count">How many files.</param>
public sealed record ExtensionCount(string Extension, int Count);

/// <summary>
/// What a folder walk passed over, so that nothing is left out in silence (data: each front end words it): the files
/// that are not named as images, counted by extension, and the camera raw files not indexed because a processed
/// picture of the same name (JPEG, HEIC) is beside them (<see cref="FolderWalker"/>).
/// </summary>
public sealed record SkippedFiles
{
    /// <summary>Nothing passed over.</summary>
    public static SkippedFiles None { get; } = new([], 0);

    /// <summary>The counts; <paramref name="notImages"/> may name an extension more than once (its counts are added up).</summary>
    /// <param name="notImages">Files not named as images, by extension (lower-cased here).</param>
    /// <param name="rawWithSibling">Camera raw files with a JPEG or HEIC of the same name beside them.</param>
    public SkippedFiles(IEnumerable<ExtensionCount> notImages, int rawWithSibling)
    {
        ArgumentNullException.ThrowIfNull(notImages);
        ArgumentOutOfRangeException.ThrowIfNegative(rawWithSibling);
        NotImages = [.. notImages
            .GroupBy(e => e.Extension.ToLowerInvariant(), StringComparer.Ordinal)
            .Select(g => new ExtensionCount(g.Key, g.Sum(e => e.Count)))
            .Where(e => e.Count > 0)
            .OrderByDescending(e => e.Count)
            .ThenBy(e => e.Extension, StringComparer.Ordinal)];
        RawWithSibling = rawWithSibling;
    }

    /// <summary>Files not named as images (<see cref="Core.Imaging.ImageFileTypes"/>), by extension: the largest count first, then by extension.</summary>
    public IReadOnlyList<ExtensionCount> NotImages { get; }

    /// <summary>How many files <see cref="NotImages"/> counts.</summary>
    public int NotImageFiles => NotImages.Sum(e => e.Count);

    /// <summary>
    /// Camera raw files that were not indexed because a processed picture of the same name, case aside, is in the same
    /// folder with an extension of <see cref="Core.Imaging.ImageFileTypes.RawSiblingExtensions"/>: that one is indexed instead.
    /// </summary>
    public int RawWithSibling { get; }

    /// <summary>The key a file is counted under in <see cref="NotImages"/>: its extension, lower-case (<c>""</c> when it has none).</summary>
    public static string ExtensionKey(string path) => Path.GetExtension(path).ToLowerInvariant();

    /// <summary>The counts of several walks added up.</summary>
    public static SkippedFiles Sum(IEnumerable<SkippedFiles> walks)
    {
        ArgumentNullException.ThrowIfNull(walks);
        var all = walks.ToList();
        return all.Count switch
        {
            0 => None,
            1 => all[0],
            _ => new SkippedFiles(all.SelectMany(w => w.NotImages), all.Sum(w => w.RawWithSibling)),
        };
    }

    /// <summary>
    /// The counts of the walks of <paramref name="byFolder"/> added up, leaving out a folder that lies below another of
    /// them (the walk of the outer folder counted its files already).
    /// </summary>
    public static SkippedFiles SumOutermost(IReadOnlyDictionary<string, SkippedFiles> byFolder)
    {
        ArgumentNullException.ThrowIfNull(byFolder);
        return Sum(byFolder.Where(f => !byFolder.Keys.Any(other => IsBelow(f.Key, other))).Select(f => f.Value));
    }

    private static bool IsBelow(string path, string folder) =>
        path.Length > folder.Length && path.StartsWith(folder, StringComparison.Ordinal)
        && (folder.EndsWith('/') || path[folder.Length] == '/');
}
