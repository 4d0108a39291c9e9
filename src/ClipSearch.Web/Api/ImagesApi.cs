using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// The library's images, by id only (no parameter ever reaches the file system):
/// <c>POST /api/images</c> (multipart <c>images</c>: add),
/// <c>GET /api/images</c> (newest first),
/// <c>GET /api/images/{id}</c>, <c>GET /api/images/{id}/thumbnail</c>.
/// </summary>
public static class ImagesApi
{
    private const int ListLimit = 200;

    /// <summary>The slowest download of an original that is kept going.</summary>
    private const double MinDownloadBytesPerSecond = 64 * 1024;

    /// <summary>Maps the image routes.</summary>
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/images").WithTags("Images");
        api.MapPost("/", AddAsync).WithSummary("Adds images to the library (embedded with the current model).")
            .Accepts<ImagesForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        api.MapGet("/", List).WithSummary("Library images, newest first.");
        api.MapGet("/{id}", ImageAsync).WithSummary("A library image as it was uploaded; formats browsers cannot show (HEIC, TIFF, JPEG XL, raw) as a JPEG (PNG with alpha) made from it.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/thumbnail", ThumbnailAsync).WithSummary("A thumbnail of a library image: a JPEG, or a PNG where it has alpha.").ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>The URL of a library image.</summary>
    public static string ImageUrl(string id) => $"/api/images/{id}";

    /// <summary>The URL of a library image's thumbnail.</summary>
    public static string ThumbnailUrl(string id) => $"/api/images/{id}/thumbnail";

    private static async Task<Results<Ok<IReadOnlyList<ImageResponse>>, ProblemHttpResult>> AddAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, "field 'images' (files)", cancellationToken).ConfigureAwait(false);
        var uploads = await FormInput.UploadsAsync(form, "images", options.Value, cancellationToken).ConfigureAwait(false);
        var added = await clip.AddUploadsAsync(uploads, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok<IReadOnlyList<ImageResponse>>([.. added.Select(ImageResponse.Of)]);
    }

    private static Ok<ImageListResponse> List(IImageSearch images) =>
        TypedResults.Ok(new ImageListResponse(images.Count, [.. (images.Uploads?.Recent(ListLimit) ?? []).Select(ImageResponse.Of)]));

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ImageAsync(string id, IImageSearch images, ImageDecoding decoding, HttpContext context)
    {
        if (await images.FindAsync(id, context.RequestAborted).ConfigureAwait(false) is not { } image
            || await images.OriginalAsync(id, context.RequestAborted).ConfigureAwait(false) is not { } original)
        {
            return NotFound(id);
        }

        context.Response.RegisterForDispose(original);   // its hold on the budget of originals lasts until it is sent
        // A reader slower than 64 KB/s (after 10 s) is cut off rather than holding the bytes for hours.
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = new MinDataRate(MinDownloadBytesPerSecond, TimeSpan.FromSeconds(10));
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";

        // HEIC, TIFF, JPEG XL, raw files…: browsers cannot show them, so the view is a JPEG (a PNG with alpha) made here.
        if (await decoding.ViewAsync(original.Bytes, image.FileName, context.RequestAborted).ConfigureAwait(false) is { } view)
        {
            var type = Core.Imaging.ImageFormats.ContentTypeOf(view);
            return TypedResults.File(view, type, Path.ChangeExtension(image.FileName, type == "image/png" ? ".png" : ".jpg"));
        }

        return TypedResults.File(original.Bytes, original.ContentType, image.FileName);
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem($"No library image has the id '{(id.Length > 64 ? id[..64] + "…" : id)}'.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ThumbnailAsync(string id, IImageSearch images, HttpContext context)
    {
        if (await images.ThumbnailBytesAsync(id, context.RequestAborted).ConfigureAwait(false) is not { } bytes)
        {
            return NotFound(id);
        }

        // Revalidated each time (a library id may name another picture after an edit or a removal); the ETag of the
        // bytes makes an unchanged thumbnail a 304.
        var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..32]}\"");
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, no-cache";
        return TypedResults.File(bytes, Core.Imaging.Thumbnails.ContentTypeOf(bytes), entityTag: etag);
    }
}

/// <summary>Multipart fields to add images (for the OpenAPI description).</summary>
/// <param name="Images">Image files, repeated.</param>
public sealed record ImagesForm(IFormFileCollection Images);

/// <summary>An image, as JSON.</summary>
/// <param name="Id">Its id.</param>
/// <param name="FileName">Its file or upload name.</param>
/// <param name="ImageUrl">The full image.</param>
/// <param name="ThumbnailUrl">A thumbnail (JPEG; PNG where the image has alpha).</param>
public sealed record ImageResponse(string Id, string FileName, string ImageUrl, string ThumbnailUrl)
{
    internal static ImageResponse Of(ImageEntry image) =>
        new(image.Id, image.FileName, ImagesApi.ImageUrl(image.Id), ImagesApi.ThumbnailUrl(image.Id));
}

/// <summary>The images searched.</summary>
/// <param name="Count">Images held.</param>
/// <param name="Images">The newest uploads, first (none for the photo library).</param>
public sealed record ImageListResponse(int Count, IReadOnlyList<ImageResponse> Images);
