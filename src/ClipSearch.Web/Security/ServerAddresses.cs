using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ClipSearch.Web.Security;

/// <summary>
/// What the started server listens on, as Kestrel reports it (not as it was asked for): the addresses, whether one
/// of them is every interface, whether all are loopback. Read once, at the first request (the server has started).
/// </summary>
public sealed class ServerAddresses(IServer server)
{
    private Snapshot? _snapshot;

    /// <summary>The IP addresses listened on (<c>localhost</c> counts as 127.0.0.1).</summary>
    public IReadOnlySet<IPAddress> Addresses => Current.Addresses;

    /// <summary>Listens on every interface (<c>0.0.0.0</c>, <c>[::]</c>, <c>*</c>).</summary>
    public bool AnyAddress => Current.AnyAddress;

    /// <summary>Reachable through loopback.</summary>
    public bool Loopback => AnyAddress || Addresses.Any(IPAddress.IsLoopback);

    /// <summary>Reachable only from this machine (also true for an in-memory test host, which has no addresses).</summary>
    public bool LoopbackOnly => !AnyAddress && Addresses.All(IPAddress.IsLoopback);

    // Kept once the server has bound; before that (a model loaded at start) the list is empty and is read anew.
    private Snapshot Current
    {
        get
        {
            if (_snapshot is { } kept)
            {
                return kept;
            }

            var read = Read(server);
            if (read.Bound)
            {
                _snapshot = read;
            }

            return read;
        }
    }

    private static Snapshot Read(IServer server)
    {
        var addresses = new HashSet<IPAddress>();
        var any = false;
        foreach (var url in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            var host = BindingAddress.Parse(url).Host;
            if (host is "*" or "+")
            {
                any = true;
            }
            else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
            {
                addresses.Add(IPAddress.Loopback);
            }
            else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
            {
                any |= ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any);
                addresses.Add(ip);
            }
            else
            {
                any = true;   // a name Kestrel could not read: it listens everywhere
            }
        }

        var bound = addresses.Count > 0 || any;
        if (!bound)
        {
            addresses.Add(IPAddress.Loopback);   // not listening (yet, or ever: the in-memory test host): reached as localhost
        }

        return new Snapshot(addresses, any, bound);
    }

    private sealed record Snapshot(IReadOnlySet<IPAddress> Addresses, bool AnyAddress, bool Bound);
}
