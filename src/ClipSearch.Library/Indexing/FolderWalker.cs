using System.IO.Enumeration;
using ClipSearch.Core;
using ClipSearch.Core.IO;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Indexing;

/// <summary>
/// Lists the image files under a folder, recursively, without opening any of them. Symbolic links to folders are
/// followed once: a folder already listed (the same device and inode, however it was reached: a link loop, two
/// links to one place) is skipped, and so is a link to a folder above the root (it would list the root again and
/// everything around it: a link to / the whole disk). An image name that is not a regular file, or that cannot
/// be reached, is listed with its <see cref="ScannedFile.Problem"/>, so that it shows among the library's errors
/// rather than vanishing: a FIFO, a socket or a device (or a link to one), a dangling link, a link loop or a chain of
/// links longer than the system allows, a name that is not valid UTF-8. So is a folder below the root that cannot
/// be listed. Only the root itself failing stops the walk (a <see cref="ClipSearchException"/>): an empty listing
/// would otherwise drop every file of that folder from the library.
/// </summary>
public static class FolderWalker
{
    /// <summary>Extensions taken as images (case-insensitive); other files are not looked at.</summary>
    public static IReadOnlySet<string> ImageExtensions => Core.Imaging.ImageLoader.FileExtensions;

    /// <summary>Folders nested deeper than this below the root are not listed (each is reported as a problem).</summary>
    public const int MaxDepth = 64;

    private static readonly EnumerationOptions _listing = new() { IgnoreInaccessible = false, RecurseSubdirectories = false, AttributesToSkip = 0 };

    /// <summary>
    /// The absolute form of a folder path a user gave (no trailing separator).
    /// </summary>
    /// <exception cref="ClipSearchException">The path is empty or contains a NUL character.</exception>
    public static string FullPath(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new ClipSearchException("A folder path is empty.");
        }

        if (folder.Contains('\0', StringComparison.Ordinal))
        {
            throw new ClipSearchException($"The folder path '{folder.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character.");
        }

        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
    }

    /// <summary>The image files under <paramref name="root"/>, with size and modification time.</summary>
    /// <exception cref="ClipSearchException"><paramref name="root"/> is not a folder that can be listed.</exception>
    public static List<ScannedFile> Walk(string root, CancellationToken cancellationToken = default) => Walk(root, null, cancellationToken);

    /// <summary>
    /// The image files under <paramref name="root"/>; <paramref name="progress"/> is called for every entry listed (a
    /// walk that stops calling it is stuck on the file system: see <see cref="LibraryIndexer"/>).
    /// </summary>
    /// <exception cref="ClipSearchException"><paramref name="root"/> is not a folder that can be listed.</exception>
    public static List<ScannedFile> Walk(string root, Action? progress, CancellationToken cancellationToken = default)
    {
        var top = FullPath(root);
        FileStat rootStat;
        try
        {
            rootStat = FileStat.Get(top);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClipSearchException(e is FileNotFoundException or DirectoryNotFoundException ? $"{top}: no such folder." : $"{top} cannot be read: {e.Message}", e);
        }

        if (rootStat.Kind != FileKind.Directory)
        {
            throw new ClipSearchException($"{top} is {(rootStat.Kind == FileKind.Regular ? "a file" : FileStat.Describe(rootStat.Kind))}; index takes folders.");
        }

        var files = new List<ScannedFile>();
        var visited = new HashSet<(ulong Device, ulong Inode)>();
        var above = FoldersAbove(top);
        var pending = new Stack<(string Path, int Depth)>();
        pending.Push((top, 0));
        while (pending.TryPop(out var next))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, depth) = next;
            FileStat stat;
            try
            {
                stat = depth == 0 ? rootStat : FileStat.Get(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (Unreachable(dir, e, "folder") is { } problem)
                {
                    files.Add(problem);
                }

                continue;
            }

            if (stat.Kind != FileKind.Directory || above.Contains((stat.Device, stat.Inode)) || !visited.Add((stat.Device, stat.Inode)))
            {
                continue;   // replaced by a file since it was listed, a link to a folder above the root, or a folder listed already
            }

            if (depth > MaxDepth)
            {
                files.Add(new ScannedFile(dir, 0, 0, $"{dir} is a folder more than {MaxDepth} levels below {top}: its images were not listed"));
                continue;
            }

            List<(string Path, bool IsDirectory)> entries;
            try
            {
                entries = [.. new FileSystemEnumerable<(string, bool)>(dir, (ref FileSystemEntry entry) =>
                {
                    progress?.Invoke();
                    return (entry.ToFullPath(), entry.IsDirectory);
                }, _listing)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (depth == 0)
                {
                    throw new ClipSearchException($"{dir} cannot be read: {e.Message}", e);
                }

                if (e is not (DirectoryNotFoundException or FileNotFoundException))   // else: deleted since it was seen
                {
                    files.Add(new ScannedFile(dir, 0, 0, $"{dir} is a folder that could not be listed: {e.Message}"));
                }

                continue;
            }

            foreach (var (path, isDirectory) in entries)
            {
                if (isDirectory)
                {
                    pending.Push((path, depth + 1));
                }
                else if (ImageExtensions.Contains(Path.GetExtension(path)) && Scan(path) is { } file)
                {
                    files.Add(file);
                }
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>The folders that contain <paramref name="top"/>, up to /, by device and inode.</summary>
    private static HashSet<(ulong Device, ulong Inode)> FoldersAbove(string top)
    {
        var above = new HashSet<(ulong Device, ulong Inode)>();
        for (var dir = Path.GetDirectoryName(top); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            try
            {
                var stat = FileStat.Get(dir);
                above.Add((stat.Device, stat.Inode));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A parent that cannot be looked at cannot be reached through a link either.
            }
        }

        return above;
    }

    /// <summary>An image name: its size and time, or why it cannot be read; null when it is gone or a folder.</summary>
    private static ScannedFile? Scan(string path)
    {
        FileStat stat;
        try
        {
            stat = FileStat.Get(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unreachable(path, e, "file");
        }

        if (stat.Kind is FileKind.Regular)
        {
            return new ScannedFile(path, stat.Size, stat.ModifiedTicks);
        }

        if (stat.Kind is FileKind.Directory)
        {
            return null;   // became a folder since it was listed: the next walk lists it
        }

        var what = LinkTarget(path) is { } target ? $"a symbolic link to {target}, which is {FileStat.Describe(stat.Kind)}" : FileStat.Describe(stat.Kind);
        return new ScannedFile(path, stat.Size, stat.ModifiedTicks, $"{path} is {what}, not a regular file: it is not read");
    }

    /// <summary>
    /// Why a listed name cannot be followed (stat failed with <paramref name="error"/>), recorded with the name's own
    /// size and time so that it is looked at again when it changes; null when it no longer exists.
    /// </summary>
    private static ScannedFile? Unreachable(string path, Exception error, string kind)
    {
        FileStat own;
        try
        {
            own = FileStat.Get(path, followLinks: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The name itself is gone: deleted since it was listed — or it was never valid UTF-8, and the name .NET
            // made of it (with U+FFFD for the bad bytes) does not lead back to it.
            return path.Contains('\uFFFD', StringComparison.Ordinal)
                ? new ScannedFile(path, 0, 0, $"{path}: the {kind}'s name is not valid UTF-8, so it cannot be opened by the name .NET gives it; rename it")
                : null;
        }

        if (own.Kind != FileKind.SymbolicLink)
        {
            return new ScannedFile(path, own.Size, own.ModifiedTicks, $"{path} could not be read: {error.Message}");
        }

        var target = LinkTarget(path) ?? "?";
        var reason = error is FileNotFoundException or DirectoryNotFoundException
            ? $"{path} is a symbolic link to {target}, which does not exist"
            : $"{path} is a symbolic link to {target}, which cannot be followed: {error.Message}";
        return new ScannedFile(path, own.Size, own.ModifiedTicks, reason);
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
