using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>Reads multipart uploads into <see cref="Upload"/>s, enforcing the per-image limit before reading a file.</summary>
internal static class FormInput
{
    private const int MaxFileNameLength = 200;

    /// <summary>The request's form; a clear error when it is not multipart or is over a limit.</summary>
    public static async Task<IFormCollection> ReadAsync(HttpRequest request, string fields, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            throw new ClipSearchException($"Send multipart/form-data with {fields}.");
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            var limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<ClipSearchOptions>>().Value.MaxImageBytes;
            throw new ClipSearchException($"The upload is over a size limit ({limit / (1024 * 1024)} MB per image): {e.Message}", e);
        }

        // Memory: the files' bytes are taken from the server's upload budget before UploadsAsync copies them.
        await request.HttpContext.RequestServices.GetRequiredService<UploadBudget>().HoldAsync(request.HttpContext, form, cancellationToken).ConfigureAwait(false);
        return form;
    }

    /// <summary>The files in <paramref name="field"/>, each at most the configured size.</summary>
    public static async Task<List<Upload>> UploadsAsync(IFormCollection form, string field, long maxBytes, CancellationToken cancellationToken)
    {
        var uploads = new List<Upload>();
        foreach (var file in form.Files.GetFiles(field))
        {
            var name = SafeName(file.FileName);
            if (file.Length > maxBytes)
            {
                throw new ClipSearchException($"{name} is {file.Length / (1024.0 * 1024.0):0.#} MB; the limit is {maxBytes / (1024.0 * 1024.0):0.#} MB per image.");
            }

            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            uploads.Add(new Upload(name, buffer.ToArray()));
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

    // A display name only: never a path.
    private static string SafeName(string? fileName)
    {
        var name = Path.GetFileName(fileName ?? "");
        name = new string([.. name.Where(c => !char.IsControl(c))]);
        if (name.Length == 0)
        {
            return "upload";
        }

        return name.Length > MaxFileNameLength ? name[..MaxFileNameLength] : name;
    }
}
