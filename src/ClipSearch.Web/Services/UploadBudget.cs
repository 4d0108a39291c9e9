using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// A bound on the uploaded image bytes that requests hold in memory at once (<see cref="ClipSearchOptions.UploadBudgetMegabytes"/>),
/// all requests together. A request takes the bytes of all its files once its form is read (the form itself is
/// buffered on disk) and before they are copied into memory, and keeps them until the response is done.
/// </summary>
/// <remarks>
/// No deadlock with the decode budget: a request takes its upload bytes first, once, and only then decode bytes,
/// one image at a time; a decode, once it has its bytes, waits for nothing. Nothing ever waits for upload bytes
/// while holding decode bytes.
/// </remarks>
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

    /// <summary>Takes the bytes of <paramref name="form"/>'s files until <paramref name="context"/>'s response is done.</summary>
    /// <exception cref="OperationCanceledException">The request was aborted while it waited.</exception>
    public async Task HoldAsync(HttpContext context, IFormCollection form, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(form);
        var total = form.Files.Sum(f => f.Length);
        if (total == 0)
        {
            return;
        }

        var lease = await Bytes.AcquireAsync(total, cancellationToken).ConfigureAwait(false);
        context.Response.RegisterForDispose(lease);
    }
}
