using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Security;

/// <summary>A folder named in a request lies outside what the server may read (answered with 403).</summary>
/// <param name="message">What was refused and how to allow it.</param>
public sealed class PathNotAllowedException(string message) : ClipSearchException(message);

/// <summary>
/// Which folders on the server a request may name (<c>POST /api/model/load</c>, <c>POST /api/library/folders</c>,
/// the Model and Library tabs). With <see cref="ClipSearchOptions.AllowedRoots"/> set, only folders under them
/// (symbolic links resolved, so a link inside a root cannot lead out of it). Without, on loopback: any folder (the
/// person at the keyboard could read it anyway); beyond loopback: none. Always allowed: the model store, the model
/// the server was started with, and the library's own folders.
/// </summary>
public sealed class ServerPaths(ServerAddresses bound, AppFolders folders, IOptions<ClipSearchOptions> options)
{
    private const int MaxLinkHops = 40;   // as Linux's own limit on symbolic links in one path
    private readonly Lazy<IReadOnlyList<string>> _roots = new(() => [.. (options.Value.AllowedRoots ?? []).Select(Root)]);

    /// <summary>Resolves the roots now, so that a bad one stops the start with its message (called once at start).</summary>
    /// <exception cref="ClipSearchException">A root is not a folder.</exception>
    public void CheckRoots() => _ = Roots;

    /// <summary>The allowed roots (absolute, links resolved).</summary>
    public IReadOnlyList<string> Roots => _roots.Value;

    /// <summary>Whether request paths are limited (roots set, or the server listens beyond loopback).</summary>
    public bool Restricted => Roots.Count > 0 || !bound.LoopbackOnly;

    /// <summary>The absolute, normalised form of a folder path from a request; no policy applied.</summary>
    /// <exception cref="ClipSearchException">Blank, not absolute, or with a control character (NUL included).</exception>
    public static string Normalize(string? path, string what = "folder")
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ClipSearchException($"Give the absolute path of a {what} on the server.");
        }

        path = path.Trim();
        if (path.Any(char.IsControl))
        {
            throw new ClipSearchException($"The {what} path contains a control character.");
        }

        if (!Path.IsPathFullyQualified(path))
        {
            throw new ClipSearchException($"Give the absolute path of a {what} on the server (got '{path}').");
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
    }

    /// <summary>A model folder a request may load.</summary>
    /// <exception cref="PathNotAllowedException">It is outside what the server may read.</exception>
    public string ModelFolder(string? path)
    {
        var full = Normalize(path, "model folder");
        var own = new List<string> { folders.Store.Root };
        if (!string.IsNullOrWhiteSpace(options.Value.ModelPath))
        {
            own.Add(options.Value.ModelPath);
        }

        return Check(full, own);
    }

    /// <summary>A folder a request may index; <paramref name="libraryFolders"/> (already indexed) are always allowed.</summary>
    /// <exception cref="PathNotAllowedException">It is outside what the server may read.</exception>
    public string LibraryFolder(string? path, IEnumerable<string> libraryFolders) => Check(Normalize(path), libraryFolders);

    private string Check(string full, IEnumerable<string> own)
    {
        if (!Restricted)
        {
            return full;
        }

        // Compared by real path (every link resolved), and the real path is what the caller reads: a link inside a
        // root cannot lead out of it, nor can a path be swapped for a link between this check and the read.
        var real = RealPath(full, out var throughLink);
        var allowed = Roots.Concat(own.Select(o => Path.TrimEndingDirectorySeparator(Path.GetFullPath(o))).Select(o => RealPath(o, out _) ?? o));
        if (real is not null && allowed.Any(r => IsUnder(real, r)))
        {
            return real;
        }

        // Under a root and simply missing (no link on the way): say so. A link that leads nowhere gets the same
        // answer as one that leads outside, so that nothing can be learnt about the rest of the file system.
        if (real is null && !throughLink && Roots.Any(r => IsUnder(full, r)))
        {
            throw new ClipSearchException($"{full} does not exist on the server.");
        }

        throw new PathNotAllowedException(Roots.Count == 0
            ? $"This server listens beyond this machine, so requests may name folders only under --allow-root folders, and none is set: restart it with --allow-root FOLDER (see docs/security.md). {full} was not read."
            : $"{full} is not under a folder this server may read (--allow-root: {string.Join(", ", Roots)}).");
    }

    /// <summary>
    /// Whether the server may read the file at <paramref name="path"/> (a library image it serves): always when no
    /// root is set; else when its real path is under a root or one of <paramref name="libraryFolders"/>' real paths
    /// (a file swapped for a link out of them after it was indexed is not read).
    /// </summary>
    public bool MayRead(string path, IEnumerable<string> libraryFolders)
    {
        ArgumentNullException.ThrowIfNull(libraryFolders);
        if (Roots.Count == 0)
        {
            return true;
        }

        return RealPath(Path.GetFullPath(path), out _) is { } real
            && Roots.Concat(libraryFolders.Select(f => RealPath(Path.GetFullPath(f), out _) ?? f)).Any(r => IsUnder(real, r));
    }

    private static string Root(string root)
    {
        var full = Normalize(root, "--allow-root folder");
        return RealPath(full, out _) is { } real && Directory.Exists(real)
            ? real
            : throw new ClipSearchException($"--allow-root: {full} is not a folder.");
    }

    private static bool IsUnder(string path, string root) =>
        path.Equals(root, StringComparison.Ordinal)
        || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>
    /// The path with every symbolic link resolved (as realpath(3)), or null when it does not exist or loops;
    /// <paramref name="throughLink"/> says whether a link was followed on the way.
    /// </summary>
    internal static string? RealPath(string full, out bool throughLink)
    {
        throughLink = false;
        var pending = new Stack<string>(full.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = "/";
        var hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = Path.Join(current, part);
            FileSystemInfo entry = new FileInfo(next);
            try
            {
                if (entry.LinkTarget is { } target)
                {
                    throughLink = true;
                    if (++hops > MaxLinkHops)
                    {
                        return null;
                    }

                    foreach (var p in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                    {
                        pending.Push(p);
                    }

                    current = target.StartsWith('/') ? "/" : current;
                    continue;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            if (!File.Exists(next) && !Directory.Exists(next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }
}
