using System.Runtime.InteropServices;

namespace ClipSearch.Core.IO;

/// <summary>
/// The few Linux system calls .NET does not expose: <c>open</c> with <c>O_PATH</c> (a descriptor that names a file
/// without opening it) and <c>O_NONBLOCK</c>, and <c>statx</c> (the file type of a path or of an open descriptor; its
/// layout is the same on every architecture, unlike <c>struct stat</c>). Linux only, as the application (linux-x64).
/// </summary>
internal static partial class Native
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;   // EWOULDBLOCK too
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    // Octal in <asm-generic/fcntl.h> and glibc's <bits/fcntl-linux.h>, the same on x86-64 and arm64.
    private const int O_RDONLY = 0;
    private const int O_NOCTTY = 0x100;        // 0400
    private const int O_NONBLOCK = 0x800;      // 04000
    private const int O_CLOEXEC = 0x80000;     // 02000000
    private const int O_PATH = 0x200000;       // 010000000
    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_BASIC_STATS = 0x7FF;

    /// <summary>
    /// A descriptor for what <paramref name="path"/> names, links followed, <b>without opening it</b>
    /// (<c>O_PATH</c>): no device driver runs, a FIFO's writer is not let go, no lease is broken. It can only be
    /// asked about (<see cref="Stat(int, out StatxBuffer)"/>) and reopened (<see cref="Reopen"/>); -1 and errno on failure.
    /// </summary>
    public static int OpenPath(string path, out int errno) => OpenRetrying(path, O_PATH | O_CLOEXEC, out errno);

    /// <summary>
    /// Opens for reading the file that the <c>O_PATH</c> descriptor <paramref name="pathFd"/> names, through
    /// <c>/proc/self/fd/N</c>: that very inode, whatever its path names now. Blocking (no <c>O_NONBLOCK</c>): the
    /// caller opens only what it knows to be a regular file, whose open then waits only for a lease's holder to let
    /// go. -1 and errno on failure (<see cref="ENOENT"/> where <c>/proc</c> is not mounted).
    /// </summary>
    public static int Reopen(int pathFd, out int errno) =>
        OpenRetrying($"/proc/self/fd/{pathFd}", O_RDONLY | O_NOCTTY | O_CLOEXEC, out errno);

    /// <summary>
    /// Opens <paramref name="path"/> for reading; with <paramref name="nonBlocking"/>, <c>open</c> returns at once
    /// whatever the path names (a FIFO would wait for a writer; a file under a lease fails with <see cref="EAGAIN"/>).
    /// -1 and errno on failure.
    /// </summary>
    public static int OpenForReading(string path, bool nonBlocking, out int errno) =>
        OpenRetrying(path, O_RDONLY | (nonBlocking ? O_NONBLOCK : 0) | O_NOCTTY | O_CLOEXEC, out errno);

    private static int OpenRetrying(string path, int flags, out int errno)
    {
        int fd;
        do
        {
            fd = Open(path, flags);
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
