using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>Reads multipart uploads into <see cref="Upload"/>s, enforcing the per-image limit before reading a file.</summary>
internal static class FormInput
{
    /// <summary>The request's form; a clear error when it is not multipart or is over a limit.</summary>
    public static async Task<IFormCollection> ReadAsync(HttpRequest request, string fields, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            throw new ClipSearchException($"Send multipart/form-data with {fields}.");
        }

        // Memory: the body's bytes (texts in memory, files copied out later) come from the server's upload budget (reserved first when the length is known).
        await request.HttpContext.RequestServices.GetRequiredService<UploadBudget>().MeterAsync(request.HttpContext, cancellationToken).ConfigureAwait(false);
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw FormProblem(e, request.HttpContext.RequestServices);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // The body ended before the form did (a part cut off, no closing boundary).
            throw new ClipSearchException($"The form is cut off or malformed ({e.Message}): send complete multipart/form-data with {fields}.", e);
        }

        return form;
    }

    // Which of the form reader's limits the request went over, in the server's own numbers.
    private static Exception FormProblem(InvalidDataException e, IServiceProvider services)
    {
        var form = services.GetRequiredService<IOptions<FormOptions>>().Value;
        var limits = services.GetRequiredService<IOptions<ClipSearchOptions>>().Value;
        var message = e.Message;
        if (message.StartsWith("Multipart body length limit", StringComparison.Ordinal))
        {
            return new RequestTooLargeException($"The request is over {Sizes.Megabytes(form.MultipartBodyLengthLimit)}, the most one request may send (and {Sizes.Megabytes(limits.MaxImageBytes)} per image).", e);
        }

        var what = message switch
        {
            _ when message.StartsWith("Form value count limit", StringComparison.Ordinal) => $"The form has more than {form.ValueCountLimit:N0} fields.",
            _ when message.StartsWith("Form key length limit", StringComparison.Ordinal) => $"A field name is longer than {form.KeyLengthLimit:N0} characters.",
            _ when message.StartsWith("Form value length limit", StringComparison.Ordinal) => $"A field's value is longer than {form.ValueLengthLimit:N0} bytes (texts, labels and templates are at most {limits.MaxTextLength:N0} characters each).",
            _ when message.StartsWith("Multipart headers length limit", StringComparison.Ordinal) => $"A part's headers are longer than {form.MultipartHeadersLengthLimit:N0} bytes.",
            _ when message.StartsWith("Multipart header count limit", StringComparison.Ordinal) => $"A part has more than {form.MultipartHeadersCountLimit:N0} headers.",
            _ when message.StartsWith("Multipart boundary length limit", StringComparison.Ordinal) => $"The multipart boundary is longer than {form.MultipartBoundaryLengthLimit:N0} characters.",
            _ when message.StartsWith("Line length limit", StringComparison.Ordinal) => "A line of the multipart body (a part's header) is too long.",
            _ => $"The form cannot be read: {message}",
        };
        return new ClipSearchException(what, e);
    }

    /// <summary>The files in <paramref name="field"/>: at most <see cref="ClipSearchOptions.MaxImagesPerRequest"/>, each at most <see cref="ClipSearchOptions.MaxImageBytes"/>.</summary>
    public static async Task<List<Upload>> UploadsAsync(IFormCollection form, string field, ClipSearchOptions limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var maxBytes = limits.MaxImageBytes;
        var uploads = new List<Upload>();
        var files = form.Files.GetFiles(field);
        var most = limits.MaxImagesPerRequest;
        if (files.Count > most)
        {
            // Before reading any of them into memory.
            throw new ClipSearchException(WebErrorCodes.TooManyImages, $"{files.Count} images is too many for one request: at most {most}.", [files.Count, most]);
        }

        foreach (var file in files)
        {
            var name = DisplayName.Of(file.FileName);
            if (file.Length > maxBytes)
            {
                throw new ClipSearchException($"{name} is {Sizes.Megabytes(file.Length)}; the limit is {Sizes.Megabytes(maxBytes)} per image.");
            }

            // One copy, of the exact size (a MemoryStream and ToArray would hold two).
            var bytes = new byte[file.Length];
            await using (var stream = file.OpenReadStream())
            {
                await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            uploads.Add(new Upload(name, bytes));
        }

        return uploads;
    }

    /// <summary>Every value of a text field (repeated fields, or lines of one field).</summary>
    public static IReadOnlyList<string> Lines(IFormCollection form, string field) =>
        [.. form[field].SelectMany(v => ClipService.Lines(v))];

    /// <summary>
    /// The number in <paramref name="field"/> (invariant culture), or <paramref name="fallback"/> when it is absent or
    /// blank; a clear error when it is not a number of that type.
    /// </summary>
    public static T Number<T>(IFormCollection form, string field, T fallback) where T : IParsable<T>
    {
        if (!form.TryGetValue(field, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return T.TryParse(text, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ClipSearchException($"{field} must be {(fallback is int or long ? "a whole number" : "a number")}, not '{text}'.");
    }
}
