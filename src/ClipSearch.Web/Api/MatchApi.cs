using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>Image–text matching: <c>POST /api/match</c> (multipart <c>images</c>, <c>texts</c>) → cosine, logits, probabilities.</summary>
public static class MatchApi
{
    /// <summary>Maps the match route.</summary>
    public static IEndpointRouteBuilder MapMatchApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/match", MatchAsync).WithTags("Match")
            .WithSummary("Every image against every text: cosine similarity, logits and per-image probabilities, [image][text].")
            .Accepts<ImagesAndTextsForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Results<Ok<MatchResponse>, ProblemHttpResult>> MatchAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, "fields 'images' (files) and 'texts'", cancellationToken).ConfigureAwait(false);
        var uploads = await FormInput.UploadsAsync(form, "images", options.Value, cancellationToken).ConfigureAwait(false);
        var outcome = await clip.MatchAsync(uploads, FormInput.Lines(form, "texts"), cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new MatchResponse(outcome.Images, outcome.Texts, outcome.Scores.Cosine, outcome.Scores.Logits, outcome.Scores.Probabilities, outcome.LogitScale));
    }
}

/// <summary>Scores, [image][text].</summary>
/// <param name="Images">Image file names.</param>
/// <param name="Texts">Texts.</param>
/// <param name="Cosine">Cosine similarity.</param>
/// <param name="Logits">logit_scale × cosine.</param>
/// <param name="Probs">Per image, softmax of its logits over the texts.</param>
/// <param name="LogitScale">exp(logit_scale).</param>
public sealed record MatchResponse(IReadOnlyList<string> Images, IReadOnlyList<string> Texts, float[][] Cosine, float[][] Logits, float[][] Probs, float LogitScale);
