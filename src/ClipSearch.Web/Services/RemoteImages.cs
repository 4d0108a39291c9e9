using System.Net;
using System.Net.Sockets;
using ClipSearch.Web.Api;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// Images that <c>POST /v1/embeddings</c> names by <c>http(s)</c> URL. None is fetched unless its host is listed in
/// <see cref="ClipSearchOptions.EmbedUrlHosts"/>: a server that fetches every URL it is given can be turned against
/// the network it sits in (server-side request forgery: the router's admin page, a cloud's metadata address). A URL
/// of a listed host is fetched within bounds: <see cref="ClipSearchOptions.MaxImageBytes"/> (taken from the upload
/// budget while the request runs), <see cref="Timeout"/> for the whole fetch, at most <see cref="MaxRedirects"/>
/// redirects and each to a listed host, no proxy, and no private or local address (loopback, the LAN ranges,
/// link-local, unique-local) unless the host is listed as that very IP address — the address a name resolves to is
/// checked where the connection is made, so a name cannot be re-pointed between the check and the connection.
/// </summary>
public sealed class RemoteImages : IDisposable
{
    /// <summary>Redirects followed, at most.</summary>
    public const int MaxRedirects = 3;

    /// <summary>The longest a fetch may take, redirects included.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private const string Option = "--embed-url-hosts (ClipSearch:EmbedUrlHosts)";

    private static readonly IPNetwork[] PrivateNetworks = [.. new[]
    {
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8",
    }.Select(n => IPNetwork.Parse(n))];

    private readonly HashSet<string> _names;
    private readonly HashSet<IPAddress> _addresses;
    private readonly long _maxBytes;
    private readonly UploadBudget _budget;
    private readonly HttpClient _client;

    /// <summary>The hosts of <paramref name="options"/>, fetched within its per-image limit and <paramref name="budget"/>.</summary>
    public RemoteImages(IOptions<ClipSearchOptions> options, UploadBudget budget)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hosts = (options.Value.EmbedUrlHosts ?? []).SelectMany(h => h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(h => h.Trim('[', ']').TrimEnd('.').ToLowerInvariant()).ToList();
        _addresses = [.. hosts.Select(h => IPAddress.TryParse(h, out var ip) ? ip : null).OfType<IPAddress>()];
        _names = new HashSet<string>(hosts.Where(h => !IPAddress.TryParse(h, out _)), StringComparer.OrdinalIgnoreCase);
        _maxBytes = options.Value.MaxImageBytes;
        _budget = budget;
        _client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
            ConnectCallback = ConnectAsync,
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("ClipSearch");
    }

    /// <summary>Whether any host is listed.</summary>
    public bool Enabled => _names.Count > 0 || _addresses.Count > 0;

    /// <summary>
    /// The image at <paramref name="url"/>, named <paramref name="name"/> in errors; its bytes are held in the upload
    /// budget until <paramref name="context"/>'s response is done.
    /// </summary>
    /// <exception cref="ApiProblemException">Its host is not listed, or the fetch failed or went over a bound (400, saying which).</exception>
    public async Task<Upload> FetchAsync(Uri url, string name, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if (!Enabled)
        {
            throw Bad($"{name} is a remote URL ({ImageReferences.Shorten(url.OriginalString)}), and this server fetches none (a server that fetches any URL it is given can be turned against the network it sits in). "
                + $"Send the image itself, as data:image/jpeg;base64,…, or allow its host with {Option}.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var current = url;
        try
        {
            for (var hop = 0; ; hop++)
            {
                CheckListed(current, name, hop > 0 ? url : null);
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Headers.Accept.ParseAdd("image/*");
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects)
                    {
                        throw Bad($"{name}: {ImageReferences.Shorten(url.OriginalString)} redirects more than {MaxRedirects} times.");
                    }

                    current = new Uri(current, location);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw Bad($"{name}: {ImageReferences.Shorten(current.OriginalString)} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                }

                return new Upload(name, await ReadAsync(response, name, context, timeout.Token).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Bad($"{name}: {ImageReferences.Shorten(url.OriginalString)} took longer than {Timeout.TotalSeconds:0} s to fetch.");
        }
        catch (HttpRequestException e)
        {
            throw Bad($"{name}: {ImageReferences.Shorten(current.OriginalString)} could not be fetched: {e.Message}");
        }
    }

    /// <summary>Closes the connections.</summary>
    public void Dispose() => _client.Dispose();

    private async Task<byte[]> ReadAsync(HttpResponseMessage response, string name, HttpContext context, CancellationToken cancellationToken)
    {
        var announced = response.Content.Headers.ContentLength;
        if (announced > _maxBytes)
        {
            throw Bad($"{name} is {Sizes.Megabytes(announced.Value)}; the limit is {Sizes.Megabytes(_maxBytes)} per image.");
        }

        // Memory: what it may hold comes from the upload budget, as an upload's bytes do, until the response is done.
        var most = announced ?? _maxBytes;
        context.Response.RegisterForDispose(await _budget.HoldAsync(most, cancellationToken).ConfigureAwait(false));
        var buffer = new byte[Math.Min(most, 1024 * 1024)];
        var length = 0;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length >= most)
                {
                    // One byte more than it may be, or than it announced, tells which.
                    var probe = new byte[1];
                    if (await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
                    {
                        break;
                    }

                    throw Bad($"{name} is larger than {(announced is null ? $"{Sizes.Megabytes(_maxBytes)}, the limit per image" : $"the {announced:N0} bytes it announced")}.");
                }

                Array.Resize(ref buffer, (int)Math.Min(most, (long)buffer.Length * 2));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return length == buffer.Length ? buffer : buffer[..length];
    }

    private void CheckListed(Uri url, string name, Uri? redirectedFrom)
    {
        var via = redirectedFrom is null ? "" : $" (a redirect of {ImageReferences.Shorten(redirectedFrom.OriginalString)})";
        if (url.Scheme is not ("http" or "https"))
        {
            throw Bad($"{name}: {ImageReferences.Shorten(url.OriginalString)}{via} is not an http(s) URL.");
        }

        if (url.UserInfo.Length > 0)
        {
            throw Bad($"{name}: {ImageReferences.Shorten(url.GetLeftPart(UriPartial.Scheme))}…{via} carries credentials; ClipSearch sends none.");
        }

        var host = url.IdnHost.Trim('[', ']').TrimEnd('.');
        var listed = IPAddress.TryParse(host, out var ip) ? _addresses.Contains(ip) : _names.Contains(host);
        if (!listed)
        {
            throw Bad($"{name}: the host {host}{via} is not one this server fetches from ({Option}: {string.Join(", ", _names.Concat(_addresses.Select(a => a.ToString())))}).");
        }
    }

    // Where the connection is made: the name's addresses are checked here, not before (a name re-pointed to a
    // private address after a check would otherwise pass). An address listed as such is the user's own choice.
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = _addresses.Contains(literal) ? [literal] : [];
        }
        else
        {
            addresses = [.. (await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false)).Where(a => !IsPrivate(a))];
        }

        if (addresses.Length == 0)
        {
            throw new HttpRequestException($"{host} resolves only to private or local addresses, which are fetched only when listed as addresses in {Option}.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="address"/> is loopback, private, link-local, unique-local, multicast or otherwise not a public address.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return PrivateNetworks.Any(n => n.Contains(plain));
    }

    private static ApiProblemException Bad(string message) => new(StatusCodes.Status400BadRequest, message, "input");
}
