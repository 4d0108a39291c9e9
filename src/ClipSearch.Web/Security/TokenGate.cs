using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Security;

/// <summary>
/// Access control. With a token configured, every request but <c>/health</c> must present it: API clients in
/// <c>Authorization: Bearer T</c> or <c>X-ClipSearch-Token: T</c>; a browser opens <c>/?token=T</c> once, which sets
/// an HttpOnly cookie and redirects to the same page without the token. Without a token the server may only
/// listen on loopback (<see cref="ListenRules"/>). The routes marked for <see cref="ClientGate"/> (Immich's, when
/// enabled) answer their listed clients without it.
/// </summary>
internal sealed class TokenGate(RequestDelegate next, string token)
{
    public const string HeaderName = "X-ClipSearch-Token";
    public const string CookieName = "clipsearch_token";
    public const string QueryName = "token";

    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path.Equals("/health", StringComparison.OrdinalIgnoreCase) || ClientGate.PassedWithoutToken(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (context.Request.Query.TryGetValue(QueryName, out var fromQuery) && Matches(fromQuery.ToString()))
        {
            context.Response.Cookies.Append(CookieName, fromQuery.ToString(), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                IsEssential = true,
            });
            // Back to the same page without the token; only ever a path on this server (never //other.host/).
            var query = QueryString.Create(context.Request.Query.Where(q => q.Key != QueryName));
            context.Response.Redirect(LocalPath.OrRoot($"{context.Request.PathBase}{context.Request.Path}") + query);
            return;
        }

        if (Presented(context.Request) is { } presented && Matches(presented))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await Results.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status401Unauthorized,
            Title = "Token required",
            Detail = "This server needs its access token: send 'Authorization: Bearer <token>' or 'X-ClipSearch-Token: <token>', or open the page once as /?token=<token>.",
        }).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            return header.ToString();
        }

        return request.Cookies.TryGetValue(CookieName, out var cookie) ? cookie : null;
    }

    private bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _token);
}
