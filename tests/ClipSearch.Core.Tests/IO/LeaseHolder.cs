using System.Diagnostics;

namespace ClipSearch.Core.Tests.IO;

/// <summary>
/// A child process holding a write lease (<c>F_SETLEASE F_WRLCK</c>) on a file, as Samba's oplocks and knfsd's
/// delegations do: an open of the file waits until it lets go (<see cref="Start"/>'s hold, or its end), or fails with
/// <c>EAGAIN</c> when non-blocking. It ignores the lease-break signal, as a slow holder would. Leases need the file's
/// owner or CAP_LEASE: the tests run as root.
/// </summary>
internal sealed class LeaseHolder : IDisposable
{
    private const string Script = """
        import fcntl, os, signal, sys, time
        signal.signal(signal.SIGIO, signal.SIG_IGN)
        fd = os.open(sys.argv[1], os.O_RDONLY)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
        print("ready", flush=True)
        time.sleep(float(sys.argv[2]))
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        os.close(fd)
        """;

    private readonly Process _process;

    private LeaseHolder(Process process) => _process = process;

    /// <summary>Starts the holder and returns once the lease is taken; it lets go after <paramref name="hold"/>.</summary>
    public static LeaseHolder Start(string path, TimeSpan hold)
    {
        var start = new ProcessStartInfo("python3", ["-c", Script, path, hold.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var holder = new LeaseHolder(process);
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(20)) || ready.Result != "ready")
        {
            holder.Kill();
            Assert.Fail($"the lease holder did not start: {process.StandardError.ReadToEnd()}");
        }

        return holder;
    }

    /// <summary>Ends the holder (its lease goes with it).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit(TimeSpan.FromSeconds(20));
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
