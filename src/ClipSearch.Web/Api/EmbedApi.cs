using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>Embeddings: <c>POST /api/embed</c> (multipart <c>images</c>, <c>texts</c>) → normalised embeddings.</summary>
public static class EmbedApi
{
    /// <summary>Maps the embedding route.</summary>
    public static IEndpointRouteBuilder MapEmbedApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/embed", EmbedAsync).WithTags("Embed")
            .WithSummary("L2-normalised CLIP embeddings of the uploaded images and the texts.")
            .Accepts<ImagesAndTextsForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Results<Ok<EmbedResponse>, ProblemHttpResult>> EmbedAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, "fields 'images' (files) and/or 'texts'", cancellationToken).ConfigureAwait(false);
        var uploads = await FormInput.UploadsAsync(form, "images", options.Value, cancellationToken).ConfigureAwait(false);
        var texts = FormInput.Lines(form, "texts");
        var (images, textEmbeddings, dim) = await clip.EmbedAsync(uploads, texts, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new EmbedResponse(
            [.. uploads.Select((u, i) => new NamedEmbedding(u.FileName, images[i]))],
            [.. texts.Select((t, i) => new NamedEmbedding(t, textEmbeddings[i]))],
            dim));
    }
}

/// <summary>Multipart fields of embed and match (for the OpenAPI description).</summary>
/// <param name="Images">Image files (JPEG, PNG, WebP, GIF, BMP), repeated.</param>
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
