namespace ClipSearch.Web.Security;

/// <summary>Where a redirect may send the browser: a path on this server, never another site.</summary>
internal static class LocalPath
{
    /// <summary>
    /// <paramref name="candidate"/> when it is a path on this server (<c>/match?x=1</c>), else <c>/</c>. Browsers read
    /// <c>//evil.example</c> and <c>/\evil.example</c> as another host, so a second <c>/</c> or <c>\</c> is refused,
    /// as are control characters and anything that is not a rooted path.
    /// </summary>
    public static string OrRoot(string? candidate) =>
        candidate is { Length: > 0 } path && path[0] == '/' && (path.Length == 1 || path[1] is not ('/' or '\\')) && !path.Any(char.IsControl)
            ? path
            : "/";
}
