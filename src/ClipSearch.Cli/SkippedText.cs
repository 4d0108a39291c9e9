using System.Globalization;
using ClipSearch.Library.Indexing;

namespace ClipSearch.Cli;

/// <summary>
/// The command line's words for what a folder walk passed over (<see cref="SkippedFiles"/>): the end of <c>index</c>,
/// <c>library stats</c>, and <c>embed</c>, <c>match</c> and <c>preprocess</c> given a folder.
/// </summary>
internal static class SkippedText
{
    /// <summary>The most extensions named; the rest are "…and N more".</summary>
    public const int MaxExtensions = 8;

    /// <summary>How a file without an extension is shown.</summary>
    public const string NoExtension = "(no extension)";

    /// <summary>
    /// The files not named as images, e.g. <c>14 files that are not images: .mov ×9, .xmp ×3, .txt ×2</c> (the largest
    /// count first; at most <see cref="MaxExtensions"/> extensions, then <c>…and N more</c>); null when there are none.
    /// </summary>
    public static string? NotImages(SkippedFiles skipped)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        var total = skipped.NotImageFiles;
        if (total == 0)
        {
            return null;
        }

        var shown = skipped.NotImages.Take(MaxExtensions).Select(e => Format($"{(e.Extension.Length == 0 ? NoExtension : e.Extension)} ×{e.Count}")).ToList();
        if (skipped.NotImages.Count > MaxExtensions)
        {
            shown.Add(Format($"…and {skipped.NotImages.Count - MaxExtensions} more"));
        }

        var list = string.Join(", ", shown);
        return total == 1 ? $"1 file that is not an image: {list}" : Format($"{total} files that are not images: {list}");
    }

    /// <summary>The camera raw files with a JPEG or HEIC beside them, e.g. <c>3 RAW files that have a JPEG or HEIC beside them</c>; null when none.</summary>
    public static string? RawWithSibling(SkippedFiles skipped)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        return skipped.RawWithSibling switch
        {
            0 => null,
            1 => "1 RAW file that has a JPEG or HEIC beside it",
            var n => Format($"{n} RAW files that have a JPEG or HEIC beside them"),
        };
    }

    /// <summary>
    /// The lines that end a walk's report (none when nothing was passed over): <c>skipped 14 files that are not
    /// images: …</c> and <c>passed over 3 RAW files that have a JPEG or HEIC beside them</c>.
    /// </summary>
    public static IEnumerable<string> Lines(SkippedFiles skipped)
    {
        if (NotImages(skipped) is { } notImages)
        {
            yield return "skipped " + notImages;
        }

        if (RawWithSibling(skipped) is { } raw)
        {
            yield return "passed over " + raw;
        }
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
