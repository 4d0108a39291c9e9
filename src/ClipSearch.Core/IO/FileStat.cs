namespace ClipSearch.Core.IO;

/// <summary>What kind of file system object a path names.</summary>
public enum FileKind
{
    /// <summary>A regular file: the only kind that is read.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A symbolic link (only seen when links are not followed).</summary>
    SymbolicLink,

    /// <summary>A named pipe: opening it for reading waits for a writer, reading it waits for data.</summary>
    NamedPipe,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A character device such as <c>/dev/zero</c> or a terminal: reading may never end.</summary>
    CharacterDevice,

    /// <summary>A block device (a disk).</summary>
    BlockDevice,

    /// <summary>Anything else.</summary>
    Unknown,
}

/// <summary>
/// The type, size, modification time and identity (device and inode) of a file, from Linux's <c>statx</c>.
/// Device and inode identify a folder however it is reached (through symbolic links, bind mounts), which is how a
/// walk recognises a folder it has already listed.
/// </summary>
/// <param name="Kind">What it is.</param>
/// <param name="Size">Bytes (what the file system reports; 0 for most devices).</param>
/// <param name="ModifiedTicks">Last write time, UTC <see cref="DateTime.Ticks"/> (as <see cref="FileSystemInfo.LastWriteTimeUtc"/>).</param>
/// <param name="Device">The device it is on.</param>
/// <param name="Inode">Its inode number on that device.</param>
public readonly record struct FileStat(FileKind Kind, long Size, long ModifiedTicks, ulong Device, ulong Inode)
{
    /// <summary>
    /// The status of <paramref name="path"/>: of what it points to when <paramref name="followLinks"/> (<c>stat</c>),
    /// else of the path itself (<c>lstat</c>). Does not open the file, so a FIFO or a device is safe to ask about.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is there (or a symbolic link points at nothing).</exception>
    /// <exception cref="DirectoryNotFoundException">A folder on the way is missing or not a folder.</exception>
    /// <exception cref="UnauthorizedAccessException">A folder on the way may not be searched.</exception>
    /// <exception cref="IOException">Any other failure (a link loop, a name too long…); the message says which.</exception>
    public static FileStat Get(string path, bool followLinks = true)
    {
        RegularFile.CheckPath(path);
        var errno = Native.Stat(path, followLinks, out var buffer);
        return errno == 0 ? From(buffer) : throw RegularFile.ErrorFor(errno);
    }

    /// <summary>Says what <paramref name="kind"/> is, for messages: "a named pipe (FIFO)", "a character device"….</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.NamedPipe => "a named pipe (FIFO)",
        FileKind.Socket => "a socket",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        _ => "not a file of a known kind",
    };

    internal static FileStat From(in Native.StatxBuffer s)
    {
        var kind = (s.Mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0x1000 => FileKind.NamedPipe,
            0xC000 => FileKind.Socket,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            _ => FileKind.Unknown,
        };
        // The same arithmetic as .NET's FileStatus, so that times compare equal with FileSystemInfo's.
        var ticks = DateTime.UnixEpoch.Ticks + (s.ModifiedSeconds * TimeSpan.TicksPerSecond) + (s.ModifiedNanoseconds / 100);
        return new FileStat(kind, (long)Math.Min(s.Size, long.MaxValue), ticks, ((ulong)s.DeviceMajor << 32) | s.DeviceMinor, s.Inode);
    }
}
