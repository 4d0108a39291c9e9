using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace ClipSearch.Hub;

/// <summary>
/// HTTP access to a Hugging Face Hub (or a mirror named by <c>HF_ENDPOINT</c>): file metadata through HEAD of the
/// <c>resolve</c> URL, the tree API, and file bodies with HTTP Range. Redirects are followed by hand, so that the
/// Hub's <c>X-Linked-*</c> headers on the first answer are seen and the token never leaves the Hub for a CDN.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <summary>Creates a client for <paramref name="settings"/> (default: from the environment).</summary>
    public HubClient(HubSettings? settings = null)
    {
        Settings = settings ?? HubSettings.FromEnvironment();
        if (!Uri.TryCreate(Settings.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint)
            || endpoint.Scheme is not ("http" or "https"))
        {
            throw new HubException(HubFailure.Unreachable,
                $"{HubSettings.EndpointVariable}='{Settings.Endpoint}' is not an http(s) address: unset it to use {HubSettings.DefaultEndpoint}.");
        }

        _endpoint = endpoint;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = Settings.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("clipsearch/1.0");
    }

    /// <summary>The endpoint and token in use.</summary>
    public HubSettings Settings { get; }

    /// <summary><c>{endpoint}/{repo}/resolve/{revision}/{path}</c>.</summary>
    public Uri ResolveUrl(HubRepo repo, string revision, string path) =>
        new(_endpoint, $"{repo.Owner}/{repo.Name}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(path)}");

    /// <summary>
    /// Size and sha256 of one file (HEAD of its resolve URL), or null when the Hub says it does not exist (404).
    /// Any other failure is a <see cref="HubException"/>.
    /// </summary>
    public async Task<HubFile?> GetFileAsync(HubRepo repo, string revision, string path, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(repo, revision, path);
        using var response = await SendAsync(HttpMethod.Head, url, offset: 0, stopAtLinkedHeaders: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && Header(response, "X-Error-Code") is null or "EntryNotFound")
        {
            return null;
        }

        if ((int)response.StatusCode is < 300 or >= 400)
        {
            EnsureSuccess(response, repo, revision, path);
        }

        var sha = Header(response, "X-Linked-Etag")?.Trim('"').ToLowerInvariant();
        var size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
        return new HubFile(path, size, IsSha256(sha) ? sha : null, Header(response, "X-Repo-Commit"));
    }

    /// <summary>
    /// The files under <paramref name="folder"/> from the tree API, or null when this endpoint has no tree API
    /// (a plain mirror): callers then try the conventional names.
    /// </summary>
    public async Task<IReadOnlyList<HubTreeEntry>?> ListFolderAsync(HubRepo repo, string revision, string folder, CancellationToken cancellationToken)
    {
        var url = new Uri(_endpoint, $"api/models/{repo.Owner}/{repo.Name}/tree/{Uri.EscapeDataString(revision)}/{EscapePath(folder)}");
        using var response = await SendAsync(HttpMethod.Get, url, offset: 0, stopAtLinkedHeaders: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            EnsureSuccess(response, repo, revision, folder);
        }

        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        try
        {
            return await response.Content.ReadFromJsonAsync<List<HubTreeEntry>>(_json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Starts a GET of a file's body from byte <paramref name="offset"/> (Range), following redirects. The caller
    /// owns the response; a status other than 200/206 is a <see cref="HubException"/>.
    /// </summary>
    public async Task<HttpResponseMessage> GetFileBodyAsync(HubRepo repo, string revision, string path, long offset, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, ResolveUrl(repo, revision, path), offset, stopAtLinkedHeaders: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            EnsureSuccess(response, repo, revision, path);
            throw new HubException(HubFailure.NotFound, $"{path} is not in {repo} at revision {revision}.");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long offset, bool stopAtLinkedHeaders, CancellationToken cancellationToken)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (offset > 0)
            {
                request.Headers.Range = new RangeHeaderValue(offset, null);
            }

            request.Headers.AcceptEncoding.ParseAdd("identity");
            if (Settings.Token is { } token && IsHub(url))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            var response = await SendOnceAsync(request, cancellationToken).ConfigureAwait(false);
            var location = response.Headers.Location;
            var isRedirect = (int)response.StatusCode is 301 or 302 or 303 or 307 or 308 && location is not null;
            if (!isRedirect || (stopAtLinkedHeaders && Header(response, "X-Linked-Etag") is not null))
            {
                return response;
            }

            response.Dispose();
            if (hop == MaxRedirects)
            {
                throw new HubException(HubFailure.Server, $"{url} redirects more than {MaxRedirects} times.");
            }

            url = location!.IsAbsoluteUri ? location : new Uri(url, location);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(Settings.StallTimeout);
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubException(HubFailure.Unreachable, $"{Host(request.RequestUri!)} did not answer within {Settings.StallTimeout.TotalSeconds:F0} s.");
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(request.RequestUri!, e);
        }
    }

    private static HubException Unreachable(Uri url, HttpRequestException e)
    {
        var socket = e.InnerException as SocketException;
        var why = e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"the name {url.Host} does not resolve (offline, or no DNS)",
            HttpRequestError.ConnectionError when socket?.SocketErrorCode == SocketError.ConnectionRefused => $"{Host(url)} refused the connection",
            HttpRequestError.ConnectionError when socket?.SocketErrorCode == SocketError.TimedOut => $"connecting to {Host(url)} timed out",
            HttpRequestError.ConnectionError => $"no connection to {Host(url)} ({socket?.Message ?? e.Message})",
            HttpRequestError.SecureConnectionError => $"the TLS connection to {Host(url)} failed (a proxy or a wrong clock?)",
            HttpRequestError.ProxyTunnelError => $"the proxy refused the connection to {Host(url)}",
            _ => $"the request to {Host(url)} failed ({e.Message})",
        };
        return new HubException(HubFailure.Unreachable, $"Cannot reach the Hugging Face Hub: {why}.", e);
    }

    private static void EnsureSuccess(HttpResponseMessage response, HubRepo repo, string revision, string path)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var code = Header(response, "X-Error-Code");
        var status = (int)response.StatusCode;
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubException(HubFailure.Unauthorized,
                $"The Hub refused {repo} ({status}{(code is null ? "" : ", " + code)}): the repository does not exist, is private or gated, or the token was refused. Check the name; for a private or gated repository set {HubSettings.TokenVariable} to a token with access."),
            HttpStatusCode.NotFound when code == "RevisionNotFound" => new HubException(HubFailure.NotFound,
                $"{repo} has no revision '{revision}' (404): use a branch, tag or commit that exists (default: main)."),
            HttpStatusCode.NotFound when code == "RepoNotFound" => new HubException(HubFailure.NotFound, Core.ErrorCodes.HubRepositoryNotFound,
                $"There is no repository {repo} on the Hub (404).", [repo.ToString()]),
            HttpStatusCode.NotFound => new HubException(HubFailure.NotFound, $"{path} is not in {repo} at revision {revision} (404)."),
            _ => new HubException(HubFailure.Server, $"The Hub answered {status} {response.ReasonPhrase} for {path} of {repo}; try again later."),
        };
    }

    private bool IsHub(Uri url) =>
        Uri.Compare(url, _endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static string Host(Uri url) => url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}";

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static bool IsSha256(string? text) => text is { Length: 64 } && text.All(Uri.IsHexDigit);
}
