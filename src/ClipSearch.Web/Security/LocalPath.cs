using System.Text;

namespace ClipSearch.Web.Security;

/// <summary>Where a redirect may send the browser: a path on this server, never another site.</summary>
internal static class LocalPath
{
    /// <summary>
    /// <paramref name="candidate"/> when it is a path on this server (<c>/match?x=1</c>), else <c>/</c>. Browsers read
    /// <c>//evil.example</c> and <c>/\evil.example</c> as another host, so a second <c>/</c> or <c>\</c> is refused,
    /// as are control characters and anything that is not a rooted path. Characters a <c>Location</c> header cannot
    /// carry (spaces, anything beyond ASCII) are percent-encoded.
    /// </summary>
    public static string OrRoot(string? candidate) =>
        candidate is { Length: > 0 } path && path[0] == '/' && (path.Length == 1 || path[1] is not ('/' or '\\')) && !path.Any(char.IsControl)
            ? Encode(path)
            : "/";

    private static string Encode(string path)
    {
        if (path.All(c => c is > ' ' and < (char)0x7F))
        {
            return path;
        }

        var encoded = new StringBuilder(path.Length * 3);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in path.EnumerateRunes())
        {
            if (rune.Value is > ' ' and < 0x7F)
            {
                encoded.Append((char)rune.Value);
                continue;
            }

            var n = rune.EncodeToUtf8(utf8);
            foreach (var b in utf8[..n])
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }
}
