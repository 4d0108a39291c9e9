using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// A bound on the bytes of uploads that requests hold in memory at once (<see cref="ClipSearchOptions.UploadBudgetMegabytes"/>),
/// all requests together. A multipart request takes its body's size (its <c>Content-Length</c>, or
/// <see cref="ClipSearchOptions.MaxRequestBytes"/> when it sends none) before its form is read — that covers the
/// form's text fields, held as strings, and the files, which the form buffers on disk and
/// <see cref="Api.FormInput.UploadsAsync"/> then copies into memory — and keeps it until the response is done.
/// </summary>
public sealed class UploadBudget
{
    /// <summary>The budget of <paramref name="options"/>.</summary>
    /// <exception cref="Core.ClipSearchException">Smaller than one image upload at its limit.</exception>
    public UploadBudget(IOptions<ClipSearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Bytes = new DecodeBudget(options.Value.CheckedUploadBudgetBytes());
    }

    /// <summary>The bytes (a <see cref="DecodeBudget"/> used for upload bytes: same rules, another pool).</summary>
    public DecodeBudget Bytes { get; }

    /// <summary>Takes the size of <paramref name="context"/>'s request body until its response is done.</summary>
    /// <exception cref="OperationCanceledException">The request was aborted while it waited.</exception>
    public async Task HoldAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var size = context.Request.ContentLength ?? context.RequestServices.GetRequiredService<IOptions<ClipSearchOptions>>().Value.MaxRequestBytes;
        if (size <= 0)
        {
            return;
        }

        var lease = await Bytes.AcquireAsync(size, cancellationToken).ConfigureAwait(false);
        context.Response.RegisterForDispose(lease);
    }
}
