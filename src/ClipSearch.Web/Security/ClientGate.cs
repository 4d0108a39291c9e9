using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Security;

/// <summary>
/// Endpoint metadata: the route answers without the token, and only to the client addresses in
/// <paramref name="Clients"/> (the Immich routes: Immich's server sends its machine-learning server no token, and
/// its URL cannot carry one).
/// </summary>
/// <param name="Clients">The client networks answered.</param>
/// <param name="Setting">The setting that lists them, as errors name it.</param>
internal sealed record TokenFreeClients(ClientNetworks Clients, string Setting);

/// <summary>
/// Runs after <see cref="BrowserGuard"/> (whose checks hold for every route) and before <see cref="TokenGate"/>.
/// A request routed to an endpoint marked <see cref="TokenFreeClients"/> from an address outside its list is
/// refused (403); from one inside, it passes without the token. The route is known by its endpoint, not by its
/// path, so no spelling of a path (<c>/PREDICT</c>, <c>/predict/</c>) reaches the route another way. Every other
/// request is left to the token gate.
/// </summary>
internal sealed class ClientGate(RequestDelegate next)
{
    private static readonly object PassedKey = new();

    /// <summary>Whether this gate let <paramref name="context"/> pass without the token.</summary>
    public static bool PassedWithoutToken(HttpContext context) => context.Items.ContainsKey(PassedKey);

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<TokenFreeClients>() is not { } free)
        {
            return next(context);
        }

        var remote = context.Connection.RemoteIpAddress;
        if (!free.Clients.Contains(remote))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Results.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Not an allowed client",
                Detail = $"{context.Request.Path} answers only the client addresses in {free.Setting}: {free.Clients}. {remote} is not one of them.",
            }).ExecuteAsync(context);
        }

        context.Items[PassedKey] = true;
        return next(context);
    }
}
