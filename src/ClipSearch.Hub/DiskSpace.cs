using ClipSearch.Core;

namespace ClipSearch.Hub;

/// <summary>Checks before a download that the target folder's file system has room for it.</summary>
internal static class DiskSpace
{
    /// <summary>Throws a <see cref="ClipSearchException"/> when fewer than <paramref name="bytesNeeded"/> bytes are free where <paramref name="directory"/> is.</summary>
    public static void EnsureRoom(string directory, long bytesNeeded)
    {
        if (bytesNeeded <= 0 || FreeBytes(directory) is not { } free || free >= bytesNeeded)
        {
            return;
        }

        throw new ClipSearchException(ErrorCodes.DiskFull,
            $"Not enough disk space for the download: it needs {bytesNeeded / 1e6:F0} MB in {directory}, and {free / 1e6:F0} MB are free.", [bytesNeeded, directory, free]);
    }

    /// <summary>Free bytes on the mount that holds <paramref name="directory"/> (the longest mount point that contains it), or null when unknown.</summary>
    private static long? FreeBytes(string directory)
    {
        try
        {
            var full = Path.GetFullPath(directory) + Path.DirectorySeparatorChar;
            var drive = DriveInfo.GetDrives()
                .Where(d => d.IsReady && full.StartsWith(d.RootDirectory.FullName.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                .MaxBy(d => d.RootDirectory.FullName.Length);
            return drive?.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
