using System.Net;
using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Security;

/// <summary>
/// Keeps web pages of other sites away from the server, as Jupyter and Grafana do for theirs. Runs first, for
/// every request:
/// <list type="number">
/// <item><b>Host</b>: must name this server — an IP address it listens on (any IP address when it listens on
/// every interface), <c>localhost</c> when it listens on loopback, this machine's name when it listens beyond
/// loopback, or a name from <see cref="ClipSearchOptions.AllowedHosts"/>. A page whose own name resolves to
/// 127.0.0.1 (DNS rebinding) sends its own name and is refused.</item>
/// <item><b>Cross-site requests</b>: a browser marks what another site's page sends (<c>Sec-Fetch-Site</c>,
/// else <c>Origin</c>). Only a top-level navigation (a link or a bookmark) may come from another site; every other
/// request from a page of another site — a form post, a <c>fetch</c>, an image, a WebSocket — is refused, so a
/// "simple" cross-site POST (<c>text/plain</c>, a form) can no longer unload the model or start a download.
/// Requests that carry neither header (curl, scripts) pass.</item>
/// <item>Without a token, a connection that does not come from this machine is refused, whatever was bound.</item>
/// </list>
/// Every response also says it may not be framed or read by another origin.
/// </summary>
internal sealed class BrowserGuard(RequestDelegate next, ServerAddresses bound, ClipSearchOptions options)
{
    private static readonly string[] SafeMethods = [HttpMethods.Get, HttpMethods.Head];
    // Names as a person writes them: "photos.lan", "photos.lan:8766", "[fd00::1]" all name the host photos.lan / fd00::1.
    private readonly HashSet<string> _configured = new(
        (options.AllowedHosts ?? []).Select(h => h.Trim()).Where(h => h.Length > 0)
            .Select(h => h == "*" ? h : HostString.FromUriComponent(h).Host.Trim('[', ']').TrimEnd('.')),
        StringComparer.OrdinalIgnoreCase);

    private readonly bool _hasToken = !string.IsNullOrEmpty(options.Token);
    private readonly string _machine = Dns.GetHostName();

    public Task InvokeAsync(HttpContext context)
    {
        // When the response starts, so that an error page (the exception handler clears the headers) has them too.
        context.Response.OnStarting(AddHeaders, context.Response);

        var request = context.Request;
        if (!_hasToken && context.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            return RefuseAsync(context, "Not from this machine",
                $"This server has no access token, so it answers only on this machine (the request came from {remote}). Start it with --token T to serve other machines.");
        }

        if (!IsAllowedHost(request.Host))
        {
            return RefuseAsync(context, "Unknown host",
                $"This server does not answer to the name '{request.Host.Host}'. If that name is meant to reach it, start it with --allowed-host {request.Host.Host}.");
        }

        if (CrossSite(request) is { } why)
        {
            return RefuseAsync(context, "Cross-site request refused", why);
        }

        return next(context);
    }

    private static Task AddHeaders(object state)
    {
        var headers = ((HttpResponse)state).Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return Task.CompletedTask;
    }

    private static Task RefuseAsync(HttpContext context, string title, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Results.Problem(new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = title, Detail = detail }).ExecuteAsync(context);
    }

    // Why a request from a page of another site is refused, or null when it may pass.
    private static string? CrossSite(HttpRequest request)
    {
        var safe = SafeMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) && !IsUpgrade(request);
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            if (site is "same-origin" or "none")
            {
                return null;
            }

            // A link or bookmark opening a page: allowed, it can only show the page to the user.
            var navigation = request.Headers["Sec-Fetch-Mode"] == "navigate" && request.Headers["Sec-Fetch-Dest"] is var dest && (dest.Count == 0 || dest == "document");
            return safe && navigation
                ? null
                : $"A page of another site ({site}) may not send this request to ClipSearch. Open ClipSearch itself, or call the API from a script (without a browser's Origin).";
        }

        // Browsers without Fetch Metadata still send Origin on every cross-origin request that could change something.
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0 || safe)
        {
            return null;
        }

        return SameOrigin(origin, request)
            ? null
            : $"A page of another origin ({origin}) may not send this request to ClipSearch.";
    }

    private static bool IsUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Count > 0 || request.HttpContext.WebSockets.IsWebSocketRequest;

    private static bool SameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
        && Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own)
        && uri.Authority.Equals(own.Authority, StringComparison.OrdinalIgnoreCase);

    private bool IsAllowedHost(HostString host)
    {
        if (!host.HasValue)
        {
            return true;   // HTTP/1.0 without Host: not a browser
        }

        var name = host.Host.Trim('[', ']').TrimEnd('.');
        if (_configured.Contains("*") || _configured.Contains(name))
        {
            return true;
        }

        if (IPAddress.TryParse(name, out var ip))
        {
            return bound.AnyAddress || (bound.Loopback && IPAddress.IsLoopback(ip)) || bound.Addresses.Contains(ip);
        }

        if (bound.Loopback && (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        // Beyond loopback, this machine's own name (a rebinding page cannot send it: the name is not the page's).
        return !bound.LoopbackOnly && (name.Equals(_machine, StringComparison.OrdinalIgnoreCase) || name.Equals(_machine + ".local", StringComparison.OrdinalIgnoreCase));
    }
}
