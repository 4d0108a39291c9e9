using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Indexing;

/// <summary>
/// Lists the image files under a folder, recursively. Symbolic links to folders are followed once: a folder whose
/// real path was already visited (a link loop, or two links to one place) is skipped. Unreadable folders are skipped.
/// </summary>
public static class FolderWalker
{
    /// <summary>Extensions taken as images (case-insensitive); other files are not looked at.</summary>
    public static IReadOnlySet<string> ImageExtensions => Core.Imaging.ImageLoader.FileExtensions;

    private const int MaxDepth = 64;

    /// <summary>The image files under <paramref name="root"/> (absolute), with size and modification time.</summary>
    public static List<ScannedFile> Walk(string root, CancellationToken cancellationToken = default)
    {
        var files = new List<ScannedFile>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(DirectoryInfo Dir, int Depth)>();
        pending.Push((new DirectoryInfo(Path.GetFullPath(root)), 0));
        var options = new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = false, AttributesToSkip = 0 };
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, depth) = pending.Pop();
            if (depth > MaxDepth || !visited.Add(RealPath(dir)))
            {
                continue;
            }

            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = dir.EnumerateFileSystemInfos("*", options).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                if (entry is DirectoryInfo sub)
                {
                    pending.Push((sub, depth + 1));
                }
                else if (entry is FileInfo file && ImageExtensions.Contains(file.Extension))
                {
                    var target = file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
                    if (target is { Exists: true })
                    {
                        files.Add(new ScannedFile(file.FullName, target.Length, target.LastWriteTimeUtc.Ticks));
                    }
                }
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    private static string RealPath(DirectoryInfo dir)
    {
        try
        {
            var target = dir.LinkTarget is null ? dir : dir.ResolveLinkTarget(returnFinalTarget: true);
            return Path.GetFullPath(target?.FullName ?? dir.FullName);
        }
        catch (IOException)
        {
            return dir.FullName;
        }
    }
}
