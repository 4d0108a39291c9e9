using System.Globalization;
using ClipSearch.Library.Indexing;

namespace ClipSearch.Web.Localization;

/// <summary>
/// The web's words for what the walks of a library's folders passed over (<see cref="SkippedFiles"/>), in the UI's
/// languages (<see cref="Ui"/>): the Library tab.
/// </summary>
public static class SkippedWords
{
    /// <summary>The most extensions named; the rest are "…and N more".</summary>
    public const int MaxExtensions = 8;

    /// <summary>
    /// The files not named as images, e.g. <c>14 files that are not images: .mov ×9, .xmp ×3, .txt ×2</c>, with
    /// <paramref name="words"/> (a key's string) and numbers in <paramref name="culture"/>; null when there are none.
    /// </summary>
    public static string? NotImages(SkippedFiles skipped, Func<string, string> words, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        ArgumentNullException.ThrowIfNull(words);
        var total = skipped.NotImageFiles;
        if (total == 0)
        {
            return null;
        }

        var shown = skipped.NotImages.Take(MaxExtensions)
            .Select(e => string.Format(culture, words("library.skipped.extension"), e.Extension.Length == 0 ? words("library.skipped.noextension") : e.Extension, e.Count))
            .ToList();
        if (skipped.NotImages.Count > MaxExtensions)
        {
            shown.Add(string.Format(culture, words("library.skipped.more"), skipped.NotImages.Count - MaxExtensions));
        }

        var list = string.Join(words("library.skipped.separator"), shown);
        return string.Format(culture, words(total == 1 ? "library.skipped.notimages.one" : "library.skipped.notimages"), total, list);
    }

    /// <summary>The camera raw files with a JPEG or HEIC beside them, e.g. <c>3 RAW files that have a JPEG or HEIC beside them</c>; null when none.</summary>
    public static string? RawWithSibling(SkippedFiles skipped, Func<string, string> words, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        ArgumentNullException.ThrowIfNull(words);
        return skipped.RawWithSibling switch
        {
            0 => null,
            1 => string.Format(culture, words("library.raw.one"), 1),
            var n => string.Format(culture, words("library.raw.many"), n),
        };
    }
}
