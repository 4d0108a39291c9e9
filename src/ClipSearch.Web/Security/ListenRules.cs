using System.Globalization;
using System.Net;
using ClipSearch.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ClipSearch.Web.Security;

/// <summary>
/// Where the server may listen. Without a token, only on loopback. The rule is applied three times, on what
/// Kestrel itself is about to bind, not on the text that asked for it: (1) <see cref="CheckUrls"/> refuses an
/// address Kestrel would read differently from a person (<c>http://127.0.0.1:abc</c> is "every interface, port
/// 80" to Kestrel), (2) <see cref="CheckEndpoint"/> runs for every endpoint Kestrel binds, from <c>--urls</c> or any
/// configuration source (<c>Kestrel:Endpoints</c> in the environment or an <c>appsettings.json</c>), and (3)
/// <see cref="CheckBound"/> reads the addresses the started server reports.
/// </summary>
public static class ListenRules
{
    private const int MaxPort = 65535;

    /// <summary>
    /// Checks a <c>urls</c> setting (entries separated by <c>;</c>): each must be <c>http://HOST:PORT</c> with HOST
    /// an IP address, <c>localhost</c>, or <c>*</c>/<c>+</c> (every interface), PORT 0–65535, and no path; and,
    /// without <paramref name="token"/>, loopback.
    /// </summary>
    /// <exception cref="ClipSearchException">An entry is not such an address, or not loopback without a token (the message names it and says why).</exception>
    public static IReadOnlyList<string> CheckUrls(string urls, string? token)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var entries = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
        {
            throw new ClipSearchException("--urls is empty: give an address such as http://127.0.0.1:8766.");
        }

        foreach (var entry in entries)
        {
            Check(entry);
            if (string.IsNullOrEmpty(token) && !IsLoopbackUrl(entry))
            {
                throw NeedsToken(entry);
            }
        }

        return entries;
    }

    /// <summary>Refuses to listen on <paramref name="endpoint"/> beyond loopback without a token.</summary>
    /// <exception cref="ClipSearchException">It is not loopback and there is no token.</exception>
    public static void CheckEndpoint(ListenOptions endpoint, string? token)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (string.IsNullOrEmpty(token) && endpoint.IPEndPoint is { } ip && !IPAddress.IsLoopback(ip.Address))
        {
            throw NeedsToken(Describe(ip));
        }
    }

    /// <summary>Checks the addresses the started <paramref name="server"/> listens on.</summary>
    /// <exception cref="ClipSearchException">One is not loopback and there is no token.</exception>
    public static void CheckBound(IServer server, string? token)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!string.IsNullOrEmpty(token))
        {
            return;
        }

        foreach (var address in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (!IsLoopbackUrl(address))
            {
                throw NeedsToken(address);
            }
        }
    }

    /// <summary>Whether a bound address (<c>http://127.0.0.1:5000</c>, <c>http://[::]:80</c>, <c>http://localhost:5000</c>) is loopback only.</summary>
    public static bool IsLoopbackUrl(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase))
        {
            return true;   // a Unix socket: reachable only through the file system
        }

        var host = BindingAddress.Parse(address).Host;
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static ClipSearchException NeedsToken(string address) =>
        new($"Listening on {address} (not loopback) needs an access token: pass --token T or set {ClipSearchOptions.TokenVariable}.");

    private static string Describe(IPEndPoint ip) =>
        ip.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"http://[{ip.Address}]:{ip.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"http://{ip.Address}:{ip.Port.ToString(CultureInfo.InvariantCulture)}";

    private static void Check(string entry)
    {
        string Bad(string why) => $"--urls: '{entry}' {why}";
        if (entry.Any(char.IsControl))
        {
            throw new ClipSearchException(Bad("contains a control character."));
        }

        var scheme = entry.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            throw new ClipSearchException(Bad("is not an address: give http://HOST:PORT, such as http://127.0.0.1:8766."));
        }

        if (!entry[..scheme].Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            throw new ClipSearchException(Bad($"uses '{entry[..scheme]}': ClipSearch serves plain http (put a TLS proxy in front of it for https; see docs/security.md)."));
        }

        var rest = entry[(scheme + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0 && slash != rest.Length - 1)
        {
            throw new ClipSearchException(Bad("has a path: ClipSearch serves from the root (give http://HOST:PORT)."));
        }

        var authority = slash >= 0 ? rest[..slash] : rest;
        string host;
        string port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= authority.Length || authority[close + 1] != ':')
            {
                throw new ClipSearchException(Bad("needs [IPv6]:PORT, such as http://[::1]:8766."));
            }

            host = authority[1..close];
            port = authority[(close + 2)..];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            if (colon < 0)
            {
                throw new ClipSearchException(Bad("has no port: give http://HOST:PORT (0 picks a free one)."));
            }

            host = authority[..colon];
            port = authority[(colon + 1)..];
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > MaxPort)
        {
            throw new ClipSearchException(Bad($"has the port '{port}': a port is a number from 0 to {MaxPort} (0 picks a free one)."));
        }

        if (host is "*" or "+" || host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (!IPAddress.TryParse(host, out var address) || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IsDottedQuad(host)))
        {
            // Kestrel listens on every interface for a name it cannot parse: refuse rather than guess.
            throw new ClipSearchException(Bad($"has the host '{host}': give an IP address (127.0.0.1 for this machine only, 0.0.0.0 for every interface) or localhost."));
        }

        if (address.IsIPv4MappedToIPv6)
        {
            throw new ClipSearchException(Bad($"is an IPv4 address written as IPv6: give {address.MapToIPv4()} instead."));
        }
    }

    // IPAddress.TryParse also takes "127.1" and "2130706433"; only the usual four numbers are meant as an address.
    private static bool IsDottedQuad(string host) =>
        host.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit));
}
