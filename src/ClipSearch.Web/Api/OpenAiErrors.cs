using System.Text.Json.Serialization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Writes every error on the OpenAI-compatible routes (<c>/v1/…</c>) in OpenAI's shape,
/// <c>{"error": {"message", "type", "param", "code"}}</c>, whoever raised it: a handler or
/// <see cref="ProblemMapping"/> (400, 404 <c>model_not_found</c>, 413, 503), the token gate (401,
/// <c>authentication_error</c>, <c>invalid_api_key</c>), the browser guard (403), the framework (404, 405, 415).
/// Registered before the default writer, it takes those paths only; every other route keeps RFC 7807.
/// </summary>
internal sealed class OpenAiErrors(IOptions<ClipSearchOptions> options) : IProblemDetailsWriter
{
    /// <summary>Where OpenAI's routes live.</summary>
    public const string Prefix = "/v1";

    /// <summary>Whether <paramref name="path"/> is one of OpenAI's routes (or would be).</summary>
    public static bool IsOpenAiPath(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    public bool CanWrite(ProblemDetailsContext context) => IsOpenAiPath(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? http.Response.StatusCode;
        var message = problem.Detail ?? ProblemMapping.DefaultDetail(status, http, options.Value) ?? problem.Title ?? ReasonPhrases.GetReasonPhrase(status);
        var code = problem.Extensions.TryGetValue("code", out var c) && c is not null ? c.ToString() : null;
        var param = problem.Extensions.TryGetValue("param", out var p) && p is not null ? p.ToString() : null;
        var type = status switch
        {
            StatusCodes.Status401Unauthorized => "authentication_error",
            StatusCodes.Status403Forbidden => "permission_error",
            StatusCodes.Status429TooManyRequests => "rate_limit_error",
            >= StatusCodes.Status500InternalServerError => "server_error",
            _ => "invalid_request_error",
        };
        if (status == StatusCodes.Status401Unauthorized)
        {
            // The token gate's words name ClipSearch's headers; a client of OpenAI's API has an API key.
            message = $"Incorrect or missing API key: give the client this server's access token as its API key (the token ClipSearch was started with, --token or ${ClipSearchOptions.TokenVariable}).";
            code ??= "invalid_api_key";
        }

        return new ValueTask(http.Response.WriteAsJsonAsync(new OpenAiErrorResponse(new OpenAiError(message, type, param, code)), http.RequestAborted));
    }
}

/// <summary>OpenAI's error body.</summary>
/// <param name="Error">The error.</param>
public sealed record OpenAiErrorResponse([property: JsonPropertyName("error")] OpenAiError Error);

/// <summary>One error, as OpenAI words it.</summary>
/// <param name="Message">What is wrong and what to do.</param>
/// <param name="Type"><c>invalid_request_error</c>, <c>authentication_error</c>, <c>permission_error</c>, <c>rate_limit_error</c> or <c>server_error</c>.</param>
/// <param name="Param">The request field at fault, or null.</param>
/// <param name="Code"><c>model_not_found</c>, <c>invalid_api_key</c>, a ClipSearch error code (<c>not-image</c>, <c>too-large</c>…) or null.</param>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
