using ClipSearch.Core;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Search in the library:
/// <c>POST /api/search</c> JSON <c>{text | imageId, k, offset, minScore, folder, from, to, types, sort}</c>, or multipart
/// with <c>image</c> (and the same fields; <c>folder</c> and <c>types</c> repeatable). The filters and the date order
/// need the photo library (<c>--library</c>): on a server that searches the session's uploads they are a 400.
/// </summary>
public static class SearchApi
{
    /// <summary>Maps the search route.</summary>
    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/search", SearchAsync).WithTags("Search")
            .WithSummary("Library images ranked by a text or a library image (JSON), or by an uploaded image (multipart: image, k, offset, minScore), narrowed by folder, from, to, types, ordered by sort (relevance or date).")
            .Accepts<SearchRequest>("application/json", "multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        ResultPage page;
        if (request.HasFormContentType)
        {
            var form = await FormInput.ReadAsync(request, "field 'image' (a file)", cancellationToken).ConfigureAwait(false);
            var uploads = await FormInput.UploadsAsync(form, "image", options.Value, cancellationToken).ConfigureAwait(false);
            if (uploads.Count != 1)
            {
                throw new ClipSearchException("Send one image in the field 'image' (or JSON {\"text\": …} to search by text).");
            }

            var (filter, sort) = FilterInput.Parse(form);
            var search = new PageRequest(FormInput.Number(form, "k", SearchRequest.DefaultK), FormInput.Number(form, "offset", 0), FormInput.Number(form, "minScore", -1f), null, filter, sort);
            page = await clip.SearchByImageAsync(uploads[0], search, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var body = await ReadJsonAsync(request, cancellationToken).ConfigureAwait(false);
            var filter = FilterInput.Parse(body.Folder, body.From, body.To, body.Types);
            var search = new PageRequest(body.K ?? SearchRequest.DefaultK, body.Offset ?? 0, body.MinScore ?? -1f, null, filter, Library.LibrarySorts.Parse(body.Sort));
            page = (string.IsNullOrWhiteSpace(body.Text), string.IsNullOrWhiteSpace(body.ImageId)) switch
            {
                (false, true) => await clip.SearchByTextAsync(body.Text!, search, cancellationToken).ConfigureAwait(false),
                (true, false) => await clip.SearchByIdAsync(body.ImageId!, search, cancellationToken).ConfigureAwait(false),
                _ => throw new ClipSearchException("Give either \"text\" or \"imageId\" (or upload an image as multipart field 'image')."),
            };
        }

        return TypedResults.Ok(new SearchResponse(page.Total, page.Offset, [.. page.Hits.Select(SearchHitResponse.Of)]));
    }

    private static async Task<SearchRequest> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            throw new ClipSearchException("Send JSON {\"text\": …} or {\"imageId\": …}, or multipart/form-data with an 'image'.");
        }

        try
        {
            return await request.ReadFromJsonAsync<SearchRequest>(cancellationToken).ConfigureAwait(false)
                ?? throw new ClipSearchException("The body is empty: send {\"text\": …} or {\"imageId\": …}.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ClipSearchException($"The body is not valid search JSON: {e.Message}", e);
        }
    }
}

/// <summary>A JSON search.</summary>
/// <param name="Text">Query text.</param>
/// <param name="ImageId">Or a library image id (more like this).</param>
/// <param name="K">Results per page (default 12, at most 200).</param>
/// <param name="Offset">Results to skip.</param>
/// <param name="MinScore">Lowest cosine similarity kept (default -1: all).</param>
/// <param name="Folder">Only images in these folders or below them (absolute paths on the server; a string or an array).</param>
/// <param name="From">Only images taken on or after this date: <c>YYYY-MM-DD</c>, <c>YYYY-MM</c> or <c>YYYY</c>.</param>
/// <param name="To">Only images taken on or before this date (the whole day, month or year).</param>
/// <param name="Types">Only these types (jpeg, png, heic…): a string, comma-separated, or an array.</param>
/// <param name="Sort"><c>relevance</c> (default: best first) or <c>date</c> (the 200 best, newest first, paged).</param>
public sealed record SearchRequest(string? Text, string? ImageId, int? K, int? Offset, float? MinScore,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(StringOrArrayConverter))] IReadOnlyList<string>? Folder = null,
    string? From = null, string? To = null,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(StringOrArrayConverter))] IReadOnlyList<string>? Types = null,
    string? Sort = null)
{
    /// <summary>Results per page when none is given.</summary>
    public const int DefaultK = 12;
}

/// <summary>A page of results.</summary>
/// <param name="Total">Results at or above minScore.</param>
/// <param name="Offset">Where this page starts.</param>
/// <param name="Results">The page, best first.</param>
public sealed record SearchResponse(int Total, int Offset, IReadOnlyList<SearchHitResponse> Results);

/// <summary>One result, as JSON.</summary>
/// <param name="Id">The image's id.</param>
/// <param name="FileName">Its file or upload name.</param>
/// <param name="Score">Cosine similarity with the query.</param>
/// <param name="ImageUrl">The full image.</param>
/// <param name="ThumbnailUrl">A JPEG thumbnail.</param>
/// <param name="TakenAt">When it was taken, ISO 8601 wall clock, with its offset when known; null for uploads and images whose metadata is not read yet.</param>
/// <param name="TakenAtSource">Where that date came from: exif, container or filetime.</param>
/// <param name="Width">Width in pixels, upright (0 when unknown).</param>
/// <param name="Height">Height in pixels, upright.</param>
/// <param name="Format">The format (jpeg, png, heic…).</param>
public sealed record SearchHitResponse(string Id, string FileName, float Score, string ImageUrl, string ThumbnailUrl,
    string? TakenAt, string? TakenAtSource, int? Width, int? Height, string? Format)
{
    internal static SearchHitResponse Of(SearchHit hit) =>
        new(hit.Id, hit.FileName, hit.Score, ImagesApi.ImageUrl(hit.Id), ImagesApi.ThumbnailUrl(hit.Id),
            hit.Metadata?.TakenAtText, hit.Metadata?.TakenAtSourceName, hit.Metadata?.Width, hit.Metadata?.Height,
            hit.Metadata is { } m ? Core.Imaging.ImageFormats.Name(m.Format) : null);
}
