using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipSearch.Web.Api;

/// <summary>
/// Near-duplicates in the photo library:
/// <c>GET /api/library/duplicates?threshold=0.95&amp;offset=0&amp;limit=20</c>: a page of the groups, each with its
/// images. Every request searches the whole library again (about one nearest-neighbour search per image,
/// docs/web.md gives the cost); it stops when the request is aborted.
/// </summary>
public static class DuplicatesApi
{
    /// <summary>Groups in a page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 20;

    /// <summary>The most groups in a page.</summary>
    public const int MaxLimit = 100;

    /// <summary>Maps the duplicates route.</summary>
    public static IEndpointRouteBuilder MapDuplicatesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/library/duplicates", GetAsync).WithTags("Library")
            .WithSummary($"Groups of near-duplicate images (cosine ≥ threshold, default {DuplicateGroup.DefaultThreshold}; byte-identical copies included), a page of them, each with its images.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<Results<Ok<DuplicatesResponse>, ProblemHttpResult>> GetAsync(string? threshold, string? offset, string? limit,
        LibraryDuplicates duplicates, CancellationToken cancellationToken)
    {
        if (!TryCount(offset, 0, out var skip) || skip < 0)
        {
            return BadPaging("offset", $"'offset' must be a whole number of groups to skip, 0 or more (got '{Shorten(offset)}').");
        }

        if (!TryCount(limit, DefaultLimit, out var take) || take is < 1 or > MaxLimit)
        {
            return BadPaging("limit", $"'limit' must be a whole number of groups from 1 to {MaxLimit} (got '{Shorten(limit)}').");
        }

        var least = LibraryDuplicates.ParseThreshold(threshold);
        var groups = await duplicates.FindAsync(least, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new DuplicatesResponse(groups.Count, skip, least,
            [.. groups.Skip(skip).Take(take).Select(g => new DuplicateGroupResponse(g.MinScore, [.. g.Images.Select(DuplicateImageResponse.Of)]))]));
    }

    private static bool TryCount(string? text, int fallback, out int value)
    {
        value = fallback;
        return string.IsNullOrWhiteSpace(text)
            || int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingWhite | System.Globalization.NumberStyles.AllowTrailingWhite | System.Globalization.NumberStyles.AllowLeadingSign,
                System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    private static ProblemHttpResult BadPaging(string param, string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad input", extensions: new Dictionary<string, object?> { ["param"] = param });

    private static string Shorten(string? text) => text is { Length: > 32 } ? text[..32] + "…" : text ?? "";
}

/// <summary>A page of near-duplicate groups.</summary>
/// <param name="Total">Groups at this threshold, all pages together.</param>
/// <param name="Offset">Groups skipped before this page.</param>
/// <param name="Threshold">The least cosine between two members that was asked for.</param>
/// <param name="Groups">The page's groups, ordered by their first image's path.</param>
public sealed record DuplicatesResponse(int Total, int Offset, float Threshold, IReadOnlyList<DuplicateGroupResponse> Groups);

/// <summary>A group of near-duplicates.</summary>
/// <param name="MinScore">The lowest cosine that joined two members (1: byte-identical copies).</param>
/// <param name="Images">Its images, by path.</param>
public sealed record DuplicateGroupResponse(float MinScore, IReadOnlyList<DuplicateImageResponse> Images);

/// <summary>An image of a group.</summary>
/// <param name="Id">Its library id (as <c>/api/images/{id}</c> and <c>/api/search</c>'s <c>imageId</c> take it).</param>
/// <param name="FileName">Its file name, for display.</param>
/// <param name="Path">Its path on the server.</param>
/// <param name="Bytes">The file's size when it was indexed.</param>
/// <param name="TakenAt">When it was taken (ISO 8601, with the offset when known), or null when the library has not read it yet.</param>
/// <param name="Width">Width in pixels, upright, or null when unknown.</param>
/// <param name="Height">Height in pixels, upright, or null when unknown.</param>
/// <param name="ImageUrl">The full image.</param>
/// <param name="ThumbnailUrl">A thumbnail.</param>
public sealed record DuplicateImageResponse(string Id, string FileName, string Path, long Bytes, string? TakenAt, int? Width, int? Height, string ImageUrl, string ThumbnailUrl)
{
    internal static DuplicateImageResponse Of(IndexedImage image)
    {
        var id = LibraryImageSearch.IdOf(image.Id);
        var metadata = image.Metadata;
        return new(id, DisplayName.Of(image.Path), image.Path, image.Bytes, metadata?.TakenAtText,
            metadata is { Width: > 0 } ? metadata.Width : null, metadata is { Height: > 0 } ? metadata.Height : null,
            ImagesApi.ImageUrl(id), ImagesApi.ThumbnailUrl(id));
    }
}
