using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Images and texts in one multipart form (<c>images</c>, <c>texts</c>): <c>POST /api/embed</c> → normalised
/// embeddings; <c>POST /api/match</c> → cosine, logits, probabilities.
/// </summary>
public static class ImageTextApi
{
    /// <summary>Maps the embedding and match routes.</summary>
    public static IEndpointRouteBuilder MapImageTextApi(this IEndpointRouteBuilder app)
    {
        Form(app.MapPost("/api/embed", EmbedAsync).WithTags("Embed")
            .WithSummary("L2-normalised CLIP embeddings of the uploaded images and the texts."));
        Form(app.MapPost("/api/match", MatchAsync).WithTags("Match")
            .WithSummary("Every image against every text: cosine similarity, logits and per-image probabilities, [image][text]."));
        return app;
    }

    private static void Form(RouteHandlerBuilder route) => route
        .Accepts<ImagesAndTextsForm>("multipart/form-data")
        .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
        .DisableAntiforgery();

    private static async Task<Results<Ok<EmbedResponse>, ProblemHttpResult>> EmbedAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var (uploads, texts) = await ReadAsync(request, "fields 'images' (files) and/or 'texts'", options.Value, cancellationToken).ConfigureAwait(false);
        var (images, textEmbeddings, dim) = await clip.EmbedAsync(uploads, texts, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new EmbedResponse(
            [.. uploads.Select((u, i) => new NamedEmbedding(u.FileName, images[i]))],
            [.. texts.Select((t, i) => new NamedEmbedding(t, textEmbeddings[i]))],
            dim));
    }

    private static async Task<Results<Ok<MatchResponse>, ProblemHttpResult>> MatchAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var (uploads, texts) = await ReadAsync(request, "fields 'images' (files) and 'texts'", options.Value, cancellationToken).ConfigureAwait(false);
        var outcome = await clip.MatchAsync(uploads, texts, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new MatchResponse(outcome.Images, outcome.Texts, outcome.Scores.Cosine, outcome.Scores.Logits, outcome.Scores.Probabilities, outcome.LogitScale));
    }

    private static async Task<(IReadOnlyList<Upload> Uploads, IReadOnlyList<string> Texts)> ReadAsync(HttpRequest request, string expected, ClipSearchOptions options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, expected, cancellationToken).ConfigureAwait(false);
        var uploads = await FormInput.UploadsAsync(form, "images", options, cancellationToken).ConfigureAwait(false);
        return (uploads, FormInput.Lines(form, "texts"));
    }
}

/// <summary>Multipart fields of embed and match (for the OpenAPI description).</summary>
/// <param name="Images">Image files (JPEG, PNG, WebP, GIF, BMP, HEIC/HEIF, AVIF, TIFF, JPEG XL, camera raw), repeated.</param>
/// <param name="Texts">Texts, repeated or one per line.</param>
public sealed record ImagesAndTextsForm(IFormFileCollection Images, string[] Texts);

/// <summary>One embedding.</summary>
/// <param name="Name">The image's file name or the text.</param>
/// <param name="Embedding">The unit vector.</param>
public sealed record NamedEmbedding(string Name, float[] Embedding);

/// <summary>Embeddings in input order.</summary>
/// <param name="Images">Image embeddings.</param>
/// <param name="Texts">Text embeddings.</param>
/// <param name="Dim">Embedding length.</param>
public sealed record EmbedResponse(IReadOnlyList<NamedEmbedding> Images, IReadOnlyList<NamedEmbedding> Texts, int Dim);

/// <summary>Scores, [image][text].</summary>
/// <param name="Images">Image file names.</param>
/// <param name="Texts">Texts.</param>
/// <param name="Cosine">Cosine similarity.</param>
/// <param name="Logits">logit_scale × cosine.</param>
/// <param name="Probs">Per image, softmax of its logits over the texts.</param>
/// <param name="LogitScale">exp(logit_scale).</param>
public sealed record MatchResponse(IReadOnlyList<string> Images, IReadOnlyList<string> Texts, float[][] Cosine, float[][] Logits, float[][] Probs, float LogitScale);
