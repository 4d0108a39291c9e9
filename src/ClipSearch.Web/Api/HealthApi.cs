using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipSearch.Web.Api;

/// <summary>Liveness: <c>GET /health</c> → <c>{status: "ok", model: "loaded" | "empty" | "loading"}</c> (no token needed).</summary>
public static class HealthApi
{
    /// <summary>Maps the health route.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", Health).WithTags("Health").WithSummary("The server is up; says whether a model is loaded.");
        return app;
    }

    private static Ok<HealthResponse> Health(ModelHost host) =>
        TypedResults.Ok(new HealthResponse("ok", host.Status.State.ToString().ToLowerInvariant()));
}

/// <summary>Health.</summary>
/// <param name="Status">Always "ok" when the server answers.</param>
/// <param name="Model">loaded, empty or loading.</param>
public sealed record HealthResponse(string Status, string Model);
