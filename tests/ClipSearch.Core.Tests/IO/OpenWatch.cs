using System.Runtime.InteropServices;
using System.Text;

namespace ClipSearch.Core.Tests.IO;

/// <summary>
/// Counts the opens of one file (inotify's <c>IN_OPEN</c>): proves that a device node was never opened. A descriptor
/// made with <c>O_PATH</c> is no open (the kernel reports none for it), a read through <c>open(O_RDONLY)</c> is.
/// </summary>
internal sealed class OpenWatch : IDisposable
{
    private const int InNonblock = 0x800;
    private const int InCloexec = 0x80000;
    private const uint InOpen = 0x20;
    private const int EventHeaderBytes = 16;   // struct inotify_event: wd, mask, cookie, len; then len bytes of name
    private readonly int _fd;
    private int _opens;

    public OpenWatch(string path)
    {
        _fd = InotifyInit1(InNonblock | InCloexec);
        Assert.True(_fd >= 0, $"inotify_init1 failed: {Marshal.GetLastPInvokeErrorMessage()}");
        Assert.True(InotifyAddWatch(_fd, [.. Encoding.UTF8.GetBytes(path), 0], InOpen) >= 0, $"inotify_add_watch {path} failed: {Marshal.GetLastPInvokeErrorMessage()}");
    }

    /// <summary>The opens seen so far.</summary>
    public int Opens()
    {
        var buffer = new byte[4096];
        for (var round = 0; round < 1000; round++)
        {
            var n = (int)Read(_fd, buffer, buffer.Length);
            if (n <= 0)
            {
                break;   // EAGAIN: nothing more
            }

            for (var offset = 0; offset + EventHeaderBytes <= n;)
            {
                var mask = BitConverter.ToUInt32(buffer, offset + 4);
                var length = BitConverter.ToInt32(buffer, offset + 12);
                if ((mask & InOpen) != 0)
                {
                    _opens++;
                }

                offset += EventHeaderBytes + length;
            }
        }

        return _opens;
    }

    public void Dispose() => _ = Close(_fd);

    [DllImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static extern int InotifyInit1(int flags);

    [DllImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true)]
    private static extern int InotifyAddWatch(int fd, byte[] path, uint mask);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern nint Read(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
