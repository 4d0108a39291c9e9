using ClipSearch.Library.Indexing;

namespace ClipSearch.Library.Storage;

/// <summary>
/// <see cref="SkippedFiles"/> as rows of the stores' <c>folder_skips</c> tables (folder, reason, extension, files), and back.
/// </summary>
internal static class SkipRows
{
    /// <summary>A file not named as an image, counted by its extension.</summary>
    public const string NotImage = "not-image";

    /// <summary>A camera raw file with a JPEG or HEIC of the same name beside it (one row per folder, extension "").</summary>
    public const string RawWithSibling = "raw-with-sibling";

    /// <summary>The rows of one folder's walk (none for a count of 0).</summary>
    public static IEnumerable<(string Reason, string Extension, int Files)> Of(SkippedFiles skipped)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        foreach (var e in skipped.NotImages)
        {
            yield return (NotImage, e.Extension, e.Count);
        }

        if (skipped.RawWithSibling > 0)
        {
            yield return (RawWithSibling, "", skipped.RawWithSibling);
        }
    }

    /// <summary>Rows of any folders, by folder.</summary>
    public static IReadOnlyDictionary<string, SkippedFiles> ByFolder(IEnumerable<(string Folder, string Reason, string Extension, long Files)> rows) =>
        rows.GroupBy(r => r.Folder, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new SkippedFiles(
                g.Where(r => r.Reason == NotImage).Select(r => new ExtensionCount(r.Extension, checked((int)r.Files))),
                checked((int)g.Where(r => r.Reason == RawWithSibling).Sum(r => r.Files))),
            StringComparer.Ordinal);
}
