using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Api;

/// <summary>
/// Maps the errors a user can cause, once, to RFC 7807 problem details, their detail worded by code in English
/// (<see cref="Localization.Ui.English"/>: the web's advice, never a CLI flag) and the code as the extension <c>code</c>: no model → 503, library busy or a download
/// already running → 409, a folder the server may not read → 403, any other <see cref="ClipSearchException"/> → 400, a request Kestrel rejects (too large,
/// malformed) → its status.
/// Anything else is a bug: 500 without details.
/// </summary>
internal sealed class ProblemMapping(IProblemDetailsService problems, Microsoft.Extensions.Options.IOptions<ClipSearchOptions> options) : IExceptionHandler
{
    /// <summary>
    /// The detail of a problem that has only a status (a route not found, a body over a limit the framework
    /// enforced): says what the status means here.
    /// </summary>
    public static string? DefaultDetail(int status, HttpContext context, ClipSearchOptions limits) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is malformed.",
        StatusCodes.Status404NotFound => $"There is nothing at {context.Request.Path}: the API's routes are listed at /openapi/v1.json (browsable at /scalar).",
        StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not a method of {context.Request.Path}: see /openapi/v1.json.",
        StatusCodes.Status413PayloadTooLarge => $"The request body is over the server's limit: {Sizes.Megabytes(limits.MaxJsonBytes)} for JSON, {Sizes.Megabytes(limits.MaxRequestBytes)} for an upload ({Sizes.Megabytes(limits.MaxImageBytes)} per image).",
        StatusCodes.Status415UnsupportedMediaType => "This route does not take that Content-Type: uploads are multipart/form-data, JSON is application/json in UTF-8 (see /openapi/v1.json).",
        _ => null,
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            ApiProblemException api => (api.Status, api.Status switch
            {
                StatusCodes.Status404NotFound => "Not found",
                StatusCodes.Status422UnprocessableEntity => "Not supported",
                _ => "Bad input",
            }),
            ModelNotLoadedException => (StatusCodes.Status503ServiceUnavailable, "No model loaded"),
            ServerBusyException => (StatusCodes.Status503ServiceUnavailable, "Server busy"),
            RequestTooLargeException => (StatusCodes.Status413PayloadTooLarge, "Too large"),
            LibraryBusyException => (StatusCodes.Status409Conflict, "Library busy"),
            ClipSearchException { Code: ErrorCodes.LibraryIndexing } => (StatusCodes.Status409Conflict, "Library busy"),
            DownloadInProgressException => (StatusCodes.Status409Conflict, "Download already running"),
            Security.PathNotAllowedException => (StatusCodes.Status403Forbidden, "Folder not allowed"),
            ClipSearchException => (StatusCodes.Status400BadRequest, "Bad input"),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request"),
            _ => (0, ""),
        };
        if (status == 0)
        {
            return false;
        }

        httpContext.Response.StatusCode = status;
        if (exception is ServerBusyException busy)
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(busy.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            // Kestrel's own words for a body over its limit name bytes and none of the server's settings.
            Detail = exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? DefaultDetail(status, httpContext, options.Value)
                : Localization.Ui.English(exception),
        };
        if (exception is ClipSearchException coded)
        {
            problem.Extensions["code"] = coded.Code;
        }
        else if (exception is ApiProblemException api)
        {
            problem.Detail = api.Message;
            if (api.Param is not null)
            {
                problem.Extensions["param"] = api.Param;
            }

            if (api.Code is not null)
            {
                problem.Extensions["code"] = api.Code;
            }
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = problem,
        }).ConfigureAwait(false);
    }
}
