using System.Globalization;
using System.IO.Enumeration;
using System.Runtime.InteropServices;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.IO;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Indexing;

/// <summary>What a walk found.</summary>
/// <param name="Files">
/// The image files, in ordinal order of their paths, each with its size and time or its problem, and the folders
/// below the root that could not be listed or are not followed (<see cref="ScannedFile.IsFolder"/>), with why.
/// </param>
/// <param name="UnlistedFolders">
/// The folders below the root whose contents are unknown: they could not be listed (permissions, an I/O error, more
/// than <see cref="FolderWalker.MaxDepth"/> levels down). What a library recorded under them is not known to be gone.
/// </param>
public sealed record FolderListing(IReadOnlyList<ScannedFile> Files, IReadOnlyList<string> UnlistedFolders)
{
    /// <summary>
    /// The files the walk met and did not take: those not named as images, by extension, and the camera raw files
    /// with a processed picture of the same name beside them (see <see cref="FolderWalker"/>).
    /// </summary>
    public SkippedFiles Skipped { get; init; } = SkippedFiles.None;
}

/// <summary>How <see cref="FolderWalker.List"/> walks.</summary>
public sealed record WalkOptions
{
    /// <summary>
    /// Called for every entry listed and every status asked (a walk that stops calling it is stuck on the file
    /// system: see <see cref="LibraryIndexer"/>), on the walk's thread.
    /// </summary>
    public Action? Progress { get; init; }

    /// <summary>
    /// The folders the walk may read (null: any). A symbolic link, to a folder or to an image, whose real target is
    /// outside all of them is not followed and is listed with that problem; a root whose real path is outside them
    /// is refused.
    /// </summary>
    public IReadOnlyList<string>? ConfineTo { get; init; }
}

/// <summary>
/// Lists the image files under a folder, recursively, without opening any of them: the files whose extension is one
/// of <see cref="ImageFileTypes.AllExtensions"/>. Every other entry that is not a folder is counted by its extension
/// (<see cref="FolderListing.Skipped"/>; by name only, not even its status is asked), never left out in silence. A camera raw file
/// (<see cref="ImageFileTypes.IsCameraRawName"/>) with a processed picture of the same name, case aside, in the same
/// folder (an extension of <see cref="ImageFileTypes.RawSiblingExtensions"/>: a camera that saves RAW + JPEG) is not
/// taken, and counted apart: the processed picture is indexed instead, as the camera (or the photographer) rendered
/// it; once that picture is gone, the raw file is taken again. Symbolic links to folders are
/// followed once: a folder already listed (the same device and inode, however it was reached: a link loop, two
/// links to one place) is skipped, and so is a link to a folder above the root (it would list the root again and
/// everything around it: a link to / the whole disk). An image name that is not a regular file, or that cannot
/// be reached, is listed with its <see cref="ScannedFile.Problem"/>, so that it shows among the library's errors
/// rather than vanishing: a FIFO, a socket or a device (or a link to one), a dangling link, a link loop or a chain of
/// links longer than the system allows, a name that is not valid UTF-8, a file over
/// <see cref="RegularFile.DefaultMaxBytes"/>. So is a folder below the root that cannot be listed, and it is among
/// <see cref="FolderListing.UnlistedFolders"/>, so that what was indexed below it is kept. Only the root itself
/// failing stops the walk (a <see cref="ClipSearchException"/>): an empty listing would otherwise drop every file of
/// that folder from the library.
/// </summary>
public static class FolderWalker
{
    /// <summary>Extensions taken as images (case-insensitive); other files are not looked at, only counted.</summary>
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

    /// <summary>
    /// The image files under <paramref name="root"/>, and the folders below it whose contents are unknown (they could
    /// not be listed): what was indexed under those is still there, as far as anyone knows.
    /// </summary>
    /// <exception cref="ClipSearchException">
    /// <paramref name="root"/> is not a folder that can be listed, or (with <see cref="WalkOptions.ConfineTo"/>) it is
    /// outside the folders the walk may read.
    /// </exception>
    public static FolderListing List(string root, WalkOptions? options = null, CancellationToken cancellationToken = default)
    {
        var top = FullPath(root);
        var progress = options?.Progress;
        var confine = options?.ConfineTo is { } allowed ? Confinement(allowed) : null;
        FileStat rootStat;
        try
        {
            rootStat = Stat(top, progress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClipSearchException(e is FileNotFoundException or DirectoryNotFoundException ? $"{top}: no such folder." : $"{top} cannot be read: {e.Message}", e);
        }

        if (rootStat.Kind != FileKind.Directory)
        {
            throw new ClipSearchException($"{top} is {(rootStat.Kind == FileKind.Regular ? "a file" : FileStat.Describe(rootStat.Kind))}; index takes folders.");
        }

        if (confine is not null && RealPath.Of(top) is var real && (real is null || !Inside(real, confine)))
        {
            // A link on the way (the root itself, or a folder above it) leads out of the folders that may be read.
            throw new ClipSearchException(real is null || real == top
                ? $"{top} is outside the folders this server may read: it is not indexed."
                : $"{top} is {real} (through a symbolic link), outside the folders this server may read: it is not indexed.");
        }

        var files = new List<ScannedFile>();
        var unlisted = new List<string>();
        var notImages = new Dictionary<string, int>(StringComparer.Ordinal);
        var rawWithSibling = 0;
        var visited = new HashSet<(ulong Device, ulong Inode)>();
        var above = FoldersAbove(top, rootStat);
        var pending = new Stack<(string Path, int Depth, bool IsLink)>();
        pending.Push((top, 0, false));
        while (pending.TryPop(out var next))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, depth, isLink) = next;
            if (depth > 0 && confine is not null && Outside(dir, isLink, confine) is { } outside)
            {
                files.Add(ScannedFile.Folder(dir, outside));   // not read, on purpose: what was indexed below it goes
                continue;
            }

            FileStat stat;
            try
            {
                stat = depth == 0 ? rootStat : Stat(dir, progress);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (Unreachable(dir, e, "folder") is { } problem)
                {
                    files.Add(ScannedFile.Folder(dir, problem.Problem!));
                    if (e is not (FileNotFoundException or DirectoryNotFoundException))
                    {
                        unlisted.Add(dir);   // there, but its contents are unknown (permissions, an I/O error)
                    }
                }

                continue;
            }

            if (stat.Kind != FileKind.Directory)
            {
                continue;   // replaced by a file since it was listed
            }

            if (above.Contains((stat.Device, stat.Inode)) || !visited.Add((stat.Device, stat.Inode)))
            {
                continue;   // a link to a folder above the root, or a folder listed already
            }

            if (depth > MaxDepth)
            {
                files.Add(ScannedFile.Folder(dir, $"{dir} is a folder more than {MaxDepth} levels below {top}: its images were not listed"));
                unlisted.Add(dir);
                continue;
            }

            List<(string Path, bool IsDirectory, bool IsLink)> entries;
            try
            {
                BeforeListForTests?.Invoke(dir);
                entries = [.. new FileSystemEnumerable<(string, bool, bool)>(dir, (ref FileSystemEntry entry) =>
                {
                    progress?.Invoke();
                    return (entry.ToFullPath(), entry.IsDirectory, (entry.Attributes & FileAttributes.ReparsePoint) != 0);
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
                    files.Add(ScannedFile.Folder(dir, $"{dir} is a folder that could not be listed: {e.Message}"));
                    unlisted.Add(dir);
                }

                continue;
            }

            var processed = ProcessedStems(entries);
            foreach (var (path, isDirectory, entryIsLink) in entries)
            {
                if (isDirectory)
                {
                    pending.Push((path, depth + 1, entryIsLink));
                }
                else if (!ImageExtensions.Contains(Path.GetExtension(path)))
                {
                    CollectionsMarshal.GetValueRefOrAddDefault(notImages, SkippedFiles.ExtensionKey(path), out _)++;
                }
                else if (processed is not null && ImageFileTypes.IsCameraRawName(path) && processed.Contains(Path.GetFileNameWithoutExtension(path)))
                {
                    rawWithSibling++;   // its JPEG or HEIC is indexed instead
                }
                else
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (Scan(path, entryIsLink, confine, progress) is { } file)
                    {
                        files.Add(file);
                    }
                }
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        unlisted.Sort(StringComparer.Ordinal);
        return new FolderListing(files, unlisted)
        {
            Skipped = new SkippedFiles(notImages.Select(e => new ExtensionCount(e.Key, e.Value)), rawWithSibling),
        };
    }

    /// <summary>
    /// The names, without extension and case aside, of the processed pictures among a folder's entries that stand for
    /// a camera raw file of the same name (<see cref="ImageFileTypes.RawSiblingExtensions"/>); null when there is none.
    /// </summary>
    private static HashSet<string>? ProcessedStems(List<(string Path, bool IsDirectory, bool IsLink)> entries)
    {
        HashSet<string>? stems = null;
        foreach (var (path, isDirectory, _) in entries)
        {
            if (!isDirectory && ImageFileTypes.RawSiblingExtensions.Contains(Path.GetExtension(path)))
            {
                (stems ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(Path.GetFileNameWithoutExtension(path));
            }
        }

        return stems;
    }

    /// <summary>Test hook: runs before a folder is listed, on the walk's thread (it may throw an IOException, as a failing disk would).</summary>
    internal static Action<string>? BeforeListForTests { get; set; }

    /// <summary>Test hook: runs before every status the walk asks for, on the walk's thread (it may block, as a dead mount would).</summary>
    internal static Action<string>? BeforeStatForTests { get; set; }

    /// <summary>The status of <paramref name="path"/> (links followed); <paramref name="progress"/> is told after each answer.</summary>
    private static FileStat Stat(string path, Action? progress)
    {
        BeforeStatForTests?.Invoke(path);
        var stat = FileStat.Get(path);
        progress?.Invoke();
        return stat;
    }

    /// <summary>
    /// The folders that contain <paramref name="top"/>, by device and inode: as the system sees them (<c>top/..</c>,
    /// <c>top/../..</c>, … up to /) and as the path is typed. When <paramref name="top"/> is or passes through a
    /// symbolic link, its textual parents are not the folders above it, and a link to one of the real ones would list
    /// the root again and everything beside it.
    /// </summary>
    private static HashSet<(ulong Device, ulong Inode)> FoldersAbove(string top, FileStat topStat)
    {
        var above = new HashSet<(ulong Device, ulong Inode)>();
        for (var parent = Path.GetDirectoryName(top); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            try
            {
                var stat = FileStat.Get(parent);   // the parents as typed too: a link to one would list what is beside the root's name
                above.Add((stat.Device, stat.Inode));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A parent that cannot be looked at cannot be reached through a link either.
            }
        }

        var previous = (topStat.Device, topStat.Inode);
        var dir = top == "/" ? "" : top;
        while (dir.Length < 3500)   // PATH_MAX is 4096: far more levels than any folder has
        {
            dir += "/..";
            FileStat stat;
            try
            {
                stat = FileStat.Get(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                break;   // a parent that cannot be looked at cannot be reached through a link either
            }

            if ((stat.Device, stat.Inode) == previous)
            {
                break;   // / is its own parent
            }

            previous = (stat.Device, stat.Inode);
            above.Add(previous);
        }

        return above;
    }

    /// <summary>The folders a confined walk may read, as real paths.</summary>
    private static List<string> Confinement(IReadOnlyList<string> allowed) =>
        [.. allowed.Select(a => RealPath.Of(FullPath(a)) ?? FullPath(a)).Distinct(StringComparer.Ordinal)];

    private static bool Inside(string real, List<string> allowed) => allowed.Exists(a => RealPath.IsUnder(real, a));

    /// <summary>Why <paramref name="path"/> (a folder, or an image name that is a link) is not read: its real path is outside every allowed folder; null when inside or unresolvable.</summary>
    private static string? Outside(string path, bool isLink, List<string> allowed)
    {
        if (RealPath.Of(path) is not { } real || Inside(real, allowed))
        {
            return null;   // inside, or dangling, looping, gone: the usual checks say so
        }

        return isLink
            ? $"{path} is a symbolic link to {real}, outside the folders this server may read: it is not read"
            : $"{path} is {real} (through a symbolic link), outside the folders this server may read: it is not read";
    }

    /// <summary>An image name: its size and time, or why it cannot be read; null when it is gone or a folder.</summary>
    private static ScannedFile? Scan(string path, bool isLink, List<string>? confine, Action? progress)
    {
        if (isLink && confine is not null && Outside(path, isLink, confine) is { } outside)
        {
            try
            {
                // Recorded with the link's own size and time: looked at again when the link changes.
                var own = FileStat.Get(path, followLinks: false);
                return new ScannedFile(path, own.Size, own.ModifiedTicks, outside);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;   // deleted meanwhile
            }
        }

        FileStat stat;
        try
        {
            stat = Stat(path, progress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unreachable(path, e, "file");
        }

        if (stat.Kind is FileKind.Regular)
        {
            // Not hashed only to be refused when decoded (a 5 GB file, a sparse one): too large is known from its size.
            return stat.Size > RegularFile.DefaultMaxBytes
                ? new ScannedFile(path, stat.Size, stat.ModifiedTicks, $"{path} cannot be read: it is {Bytes(stat.Size)}, over the {Bytes(RegularFile.DefaultMaxBytes)} limit for one file")
                : new ScannedFile(path, stat.Size, stat.ModifiedTicks);
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

    /// <summary>As <see cref="RegularFile"/>'s messages write sizes.</summary>
    private static string Bytes(long bytes) => bytes >= 1_000_000_000
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:0.#} GB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.#} MB");

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
