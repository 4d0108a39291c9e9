using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace ClipSearch.Web.Api;

/// <summary>
/// Refuses, before any endpoint reads it, a request that no endpoint could read sensibly: a control character
/// (NUL included) in its path (400), a body in a character set .NET does not know (415: JSON is UTF-8), and a
/// JSON body over <see cref="ClipSearchOptions.MaxJsonBytes"/> (413; uploads keep the larger
/// <see cref="ClipSearchOptions.MaxRequestBytes"/>, and so do JSON bodies of routes marked <see cref="ImagesInJson"/>).
/// </summary>
internal sealed class RequestLimits(RequestDelegate next, ClipSearchOptions options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if ((request.Path.Value ?? "").Any(char.IsControl))
        {
            return ProblemAsync(context, StatusCodes.Status400BadRequest, "Bad request", "The path contains a control character.");
        }

        if (request.ContentType is { Length: > 0 } contentType && MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            if (media.Charset is { Length: > 0 } charset && !KnownCharset(charset.ToString()))
            {
                return ProblemAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported character set",
                    $"The body's charset '{charset}' is not one ClipSearch can read: send UTF-8.");
            }

            if (media.MediaType.Value is { } type && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
                && context.GetEndpoint()?.Metadata.GetMetadata<ImagesInJson>() is null
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = options.MaxJsonBytes;
            }
        }

        return next(context);
    }

    // Exactly as the framework's readers will look it up (a quoted "utf-8" is not a name they know either).
    private static bool KnownCharset(string charset)
    {
        try
        {
            _ = Encoding.GetEncoding(charset);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return false;   // unknown, or known and refused (UTF-7)
        }
    }

    private static Task ProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail }).ExecuteAsync(context);
    }
}

/// <summary>
/// Endpoint metadata: the route's JSON body carries images (<c>data:</c> URLs, <c>POST /v1/embeddings</c>), so it
/// keeps the request limit (<see cref="ClipSearchOptions.MaxRequestBytes"/>) instead of
/// <see cref="ClipSearchOptions.MaxJsonBytes"/>, and meters its body through the upload budget as an upload does.
/// </summary>
internal sealed class ImagesInJson
{
    /// <summary>The marker.</summary>
    public static ImagesInJson Instance { get; } = new();
}
