using System.Globalization;
using System.Text;

namespace ClipSearch.Web.Services;

/// <summary>
/// The name of a file as the server shows it (API <c>fileName</c>, <c>Content-Disposition</c>, the UI): the last
/// path segment, without control characters, bidirectional overrides and other invisible format characters
/// (U+202E turns <c>gpj.exe</c> into what reads as <c>exe.jpg</c>), unpaired surrogates or line separators, and
/// at most <see cref="MaxLength"/> characters. Never used as a path.
/// </summary>
public static class DisplayName
{
    /// <summary>Longest name kept, in characters (whole characters: a surrogate pair is never cut).</summary>
    public const int MaxLength = 200;

    /// <summary>The display form of <paramref name="fileName"/> (a name or a path; browsers once sent <c>C:\…\x.jpg</c>), or <paramref name="fallback"/> when nothing is left.</summary>
    public static string Of(string? fileName, string fallback = "upload")
    {
        var name = fileName ?? "";
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                if (!Invisible(CharUnicodeInfo.GetUnicodeCategory(name, i)))
                {
                    clean.Append(c).Append(name[i + 1]);
                }

                i++;
                continue;
            }

            if (!char.IsSurrogate(c) && !Invisible(CharUnicodeInfo.GetUnicodeCategory(c)))
            {
                clean.Append(c);
            }
        }

        var result = clean.ToString().Trim();
        if (result.Length > MaxLength)
        {
            var cut = MaxLength;
            if (char.IsLowSurrogate(result[cut]))
            {
                cut--;
            }

            result = result[..cut];
        }

        return result.Length == 0 ? fallback : result;
    }

    private static bool Invisible(UnicodeCategory category) => category is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse
        or UnicodeCategory.OtherNotAssigned;
}
