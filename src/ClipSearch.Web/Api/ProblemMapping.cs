using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Api;

/// <summary>
/// Maps the errors a user can cause, once, to RFC 7807 problem details: no model → 503, library busy or a download
/// already running → 409, a folder the server may not read → 403, any other <see cref="ClipSearchException"/> → 400, a request Kestrel rejects (too large,
/// malformed) → its status.
/// Anything else is a bug: 500 without details.
/// </summary>
internal sealed class ProblemMapping(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            ModelNotLoadedException => (StatusCodes.Status503ServiceUnavailable, "No model loaded"),
            LibraryBusyException => (StatusCodes.Status409Conflict, "Library busy"),
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
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = exception.Message },
        }).ConfigureAwait(false);
    }
}
