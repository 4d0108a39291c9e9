using System.Net;
using System.Net.Sockets;
using ClipSearch.Core;

namespace ClipSearch.Web.Security;

/// <summary>
/// A list of client networks (<c>172.16.0.0/12</c>, <c>::1/128</c>, or single addresses) that a connection's remote
/// address is looked up in. An IPv4 address that reaches a dual-stack socket as IPv6 (<c>::ffff:172.17.0.2</c>) is
/// matched as the IPv4 address it is.
/// </summary>
public sealed class ClientNetworks
{
    private readonly IPNetwork[] _networks;

    private ClientNetworks(IPNetwork[] networks) => _networks = networks;

    /// <summary>The networks, as CIDR.</summary>
    public IReadOnlyList<string> Entries => [.. _networks.Select(n => n.ToString())];

    /// <summary>
    /// Parses <paramref name="entries"/> (each may hold several, separated by commas); <paramref name="setting"/>
    /// names the setting in errors.
    /// </summary>
    /// <exception cref="ClipSearchException">An entry is not an IP address or a network in CIDR notation, or none is given.</exception>
    public static ClientNetworks Parse(IEnumerable<string> entries, string setting)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var networks = new List<IPNetwork>();
        foreach (var entry in entries.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            networks.Add(ParseOne(entry, setting));
        }

        return networks.Count > 0
            ? new ClientNetworks([.. networks])
            : throw new ClipSearchException($"{setting} is empty: give client networks such as 127.0.0.1/32,172.16.0.0/12.");
    }

    /// <summary>
    /// Whether <paramref name="remote"/> is in one of the networks. A connection without an IP address (a Unix
    /// socket, the in-memory test host) comes from this machine: it is in the list when loopback is.
    /// </summary>
    public bool Contains(IPAddress? remote)
    {
        var address = remote is null ? IPAddress.Loopback : remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return _networks.Any(n => n.Contains(address));
    }

    /// <summary>The networks, comma-separated.</summary>
    public override string ToString() => string.Join(", ", Entries);

    private static IPNetwork ParseOne(string entry, string setting)
    {
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? entry : entry[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            throw new ClipSearchException($"{setting}: '{entry}' is not an IP address or a network (give one such as 172.16.0.0/12 or 192.168.1.20).");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(entry[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            throw new ClipSearchException($"{setting}: '{entry}' has the prefix length '{entry[(slash + 1)..]}': it is a number from 0 to {bits}.");
        }

        // 172.16.5.0/12 is most likely a typing mistake for 172.16.0.0/12 (or for 172.16.5.0/24): say so rather than guess.
        var masked = Masked(address, prefix);
        return masked.Equals(address)
            ? new IPNetwork(address, prefix)
            : throw new ClipSearchException($"{setting}: '{entry}' has bits set beyond its /{prefix} prefix: did you mean {new IPNetwork(masked, prefix)}?");
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
