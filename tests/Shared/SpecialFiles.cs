using System.Diagnostics;
using System.Net.Sockets;

namespace ClipSearch.Tests;

/// <summary>File system objects that are not regular files, made for tests: named pipes, sockets, link chains.</summary>
internal static class SpecialFiles
{
    /// <summary>True when the tests run as root (who may read and write any file: permission tests cannot work).</summary>
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>A FIFO at <paramref name="path"/> (.NET has no mkfifo).</summary>
    public static void MakeFifo(string path) => Run("mkfifo", path);

    /// <summary>A Unix domain socket file at <paramref name="path"/>; it lasts until the socket is disposed (.NET then deletes it).</summary>
    public static Socket MakeSocket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>
    /// <paramref name="path"/> as a chain of <paramref name="links"/> symbolic links ending at <paramref name="target"/>
    /// (path → path.1 → … → target): longer than the system's limit of 40, it cannot be followed.
    /// </summary>
    public static void MakeLinkChain(string path, string target, int links)
    {
        var next = target;
        for (var i = links - 1; i >= 1; i--)
        {
            var link = $"{path}.{i}";
            File.CreateSymbolicLink(link, next);
            next = link;
        }

        File.CreateSymbolicLink(path, next);
    }

    /// <summary>Runs a command to its end; a failure fails the test.</summary>
    public static void Run(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)} failed: {error}");
    }
}
