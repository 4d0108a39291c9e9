using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Library;
using ClipSearch.Library.Storage;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipSearch.Web.Api;

/// <summary>
/// Looking through the photo library without a query, for the timeline and the search page's pickers:
/// <c>GET /api/library/images?sort=date&amp;offset=&amp;limit=</c> with the search's filters (<c>folder</c> repeatable,
/// <c>from</c>, <c>to</c>, <c>types</c>; newest first, paged, with the total),
/// <c>GET /api/library/months</c> (images per month, the same filters),
/// <c>GET /api/library/folders/tree</c> (the library's folders and their subfolders with their counts).
/// </summary>
public static class BrowseApi
{
    /// <summary>Images per browse page when none is asked for.</summary>
    public const int DefaultLimit = 60;

    /// <summary>The most images one browse page holds.</summary>
    public const int MaxLimit = 200;

    /// <summary>Maps the browse routes.</summary>
    public static IEndpointRouteBuilder MapBrowseApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/library").WithTags("Library").DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/images", ImagesAsync).WithSummary("The library's images, newest first by date taken (undated last), paged, narrowed by folder, from, to, types.");
        api.MapGet("/months", MonthsAsync).WithSummary("How many images (that pass the filters) were taken in each month, newest first.");
        api.MapGet("/folders/tree", FolderTreeAsync).WithSummary("The library's folders and every folder below them that holds images, with the images in each and below it.");
        return app;
    }

    private static async Task<Ok<BrowseResponse>> ImagesAsync(LibraryHost host, string? sort, int? offset, int? limit,
        string[]? folder, string? from, string? to, string[]? types, CancellationToken cancellationToken)
    {
        var library = host.Required;
        var filter = FilterInput.Parse(folder, from, to, types);
        if (!string.IsNullOrWhiteSpace(sort) && !string.Equals(sort.Trim(), "date", StringComparison.OrdinalIgnoreCase))
        {
            throw new ClipSearchException(ErrorCodes.SortUnknown, $"'{sort}' is not an order for browsing: the library is browsed by date (sort=date, newest first).", [sort]);
        }

        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            throw new ClipSearchException(WebErrorCodes.BadLimit, $"limit is how many images a page holds: between 1 and {MaxLimit}, not {size}.", [size, MaxLimit]);
        }

        if (offset < 0)
        {
            throw new ClipSearchException("offset cannot be negative.");
        }

        var start = offset ?? 0;
        var page = await library.BrowseAsync(filter, start, size, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new BrowseResponse(page.Total, start, [.. page.Images.Select(BrowseImage.Of)]));
    }

    private static async Task<Ok<IReadOnlyList<MonthCount>>> MonthsAsync(LibraryHost host, string[]? folder, string? from, string? to, string[]? types, CancellationToken cancellationToken)
    {
        var library = host.Required;
        return TypedResults.Ok(await library.GetMonthsAsync(FilterInput.Parse(folder, from, to, types), cancellationToken).ConfigureAwait(false));
    }

    private static async Task<Ok<IReadOnlyList<FolderCount>>> FolderTreeAsync(LibraryHost host, CancellationToken cancellationToken) =>
        TypedResults.Ok(await host.Required.GetFolderTreeAsync(cancellationToken).ConfigureAwait(false));
}

/// <summary>A page of the library's images, newest first.</summary>
/// <param name="Total">Images that pass the filters, in all.</param>
/// <param name="Offset">Where this page starts.</param>
/// <param name="Images">The page.</param>
public sealed record BrowseResponse(long Total, int Offset, IReadOnlyList<BrowseImage> Images);

/// <summary>One image of a browse page.</summary>
/// <param name="Id">The image's id (as search results name it).</param>
/// <param name="FileName">Its file name (display only).</param>
/// <param name="Bytes">The file's size when indexed.</param>
/// <param name="TakenAt">When it was taken, ISO 8601 wall clock with its offset when known; null when its metadata is not read yet.</param>
/// <param name="TakenAtSource">Where that date came from: exif, container or filetime.</param>
/// <param name="Width">Width in pixels, upright (0 when unknown).</param>
/// <param name="Height">Height in pixels, upright.</param>
/// <param name="Format">The format (jpeg, png, heic…).</param>
/// <param name="ImageUrl">The full image.</param>
/// <param name="ThumbnailUrl">A thumbnail.</param>
public sealed record BrowseImage(string Id, string FileName, long Bytes, string? TakenAt, string? TakenAtSource, int? Width, int? Height, string? Format,
    string ImageUrl, string ThumbnailUrl)
{
    internal static BrowseImage Of(IndexedImage image)
    {
        var id = image.Id.ToString(CultureInfo.InvariantCulture);
        var m = image.Metadata;
        return new(id, DisplayName.Of(image.Path), image.Bytes, m?.TakenAtText, m?.TakenAtSourceName, m?.Width, m?.Height,
            m is null ? null : Core.Imaging.ImageFormats.Name(m.Format), ImagesApi.ImageUrl(id), ImagesApi.ThumbnailUrl(id));
    }
}
