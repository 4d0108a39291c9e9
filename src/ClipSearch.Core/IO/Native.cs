using System.Runtime.InteropServices;

namespace ClipSearch.Core.IO;

/// <summary>
/// The few Linux system calls .NET does not expose: <c>open</c> with <c>O_NONBLOCK</c> (a FIFO would block in
/// <c>open</c> otherwise) and <c>statx</c> (the file type of a path or of an open descriptor; its layout is the same on
/// every architecture, unlike <c>struct stat</c>). Linux only, as the application (linux-x64).
/// </summary>
internal static partial class Native
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EPERM = 1;
    public const int ELOOP = 40;

    private const int O_RDONLY = 0;
    private const int O_NOCTTY = 0x100;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_BASIC_STATS = 0x7FF;

    /// <summary>Opens <paramref name="path"/> for reading without ever blocking in <c>open</c>; -1 and errno on failure.</summary>
    public static int OpenForReading(string path, out int errno)
    {
        int fd;
        do
        {
            fd = Open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        while (fd < 0 && errno == EINTR);

        return fd;
    }

    /// <summary><c>stat</c> (<paramref name="followLinks"/>) or <c>lstat</c> of a path; errno, or 0 on success.</summary>
    public static int Stat(string path, bool followLinks, out StatxBuffer buffer) =>
        Statx(AT_FDCWD, path, followLinks ? 0 : AT_SYMLINK_NOFOLLOW, out buffer);

    /// <summary><c>fstat</c> of an open descriptor: what was opened, whatever the path names now; errno, or 0.</summary>
    public static int Stat(int fd, out StatxBuffer buffer) => Statx(fd, "", AT_EMPTY_PATH, out buffer);

    private static int Statx(int dirfd, string path, int flags, out StatxBuffer buffer)
    {
        int errno;
        do
        {
            errno = StatxCall(dirfd, path, flags, STATX_BASIC_STATS, out buffer) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        while (errno == EINTR);

        return errno;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxCall(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>The fields of Linux's <c>struct statx</c> (256 bytes) that are used.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct StatxBuffer
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(112)] public long ModifiedSeconds;
        [FieldOffset(120)] public uint ModifiedNanoseconds;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }
}
