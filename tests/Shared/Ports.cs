using System.Net;
using System.Net.Sockets;

namespace ClipSearch.Tests;

/// <summary>TCP ports on 127.0.0.1, for tests that start servers.</summary>
internal static class Ports
{
    /// <summary>A port nothing listens on now (the system's choice; free until someone takes it).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
