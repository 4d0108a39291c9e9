using ClipSearch.Core;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Zero-shot classification:
/// <c>POST /api/classify</c> (multipart <c>image</c>, <c>labels</c> or <c>preset</c>, optional <c>templates</c>, <c>k</c>),
/// <c>GET /api/classify/presets</c>.
/// </summary>
public static class ClassifyApi
{
    private const int DefaultTopK = 5;

    /// <summary>Maps the classification routes.</summary>
    public static IEndpointRouteBuilder MapClassifyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/classify").WithTags("Classify");
        api.MapPost("/", ClassifyAsync)
            .WithSummary("Ranks labels (or a preset's classes) for one image, with prompt ensembling over the templates.")
            .Accepts<ClassifyForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        api.MapGet("/presets", Presets).WithSummary("The built-in presets: class names and prompt templates from openai/CLIP.");
        return app;
    }

    private static async Task<Results<Ok<ClassifyResponse>, ProblemHttpResult>> ClassifyAsync(HttpRequest request, ClipService clip, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, "field 'image' (a file) and 'labels' or 'preset'", cancellationToken).ConfigureAwait(false);
        var uploads = await FormInput.UploadsAsync(form, "image", options.Value, cancellationToken).ConfigureAwait(false);
        if (uploads.Count != 1)
        {
            throw new ClipSearchException(uploads.Count == 0 ? "No image: send one file in the field 'image'." : "Send one image in the field 'image', not several.");
        }

        var k = FormInput.Number(form, "k", DefaultTopK);
        var outcome = await clip.ClassifyAsync(uploads[0], FormInput.Lines(form, "labels"), form["preset"].ToString(),
            FormInput.Lines(form, "templates"), k, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new ClassifyResponse(outcome.Ranked, outcome.LabelCount, outcome.TemplateCount, Math.Round(outcome.Elapsed.TotalMilliseconds, 1), outcome.LabelEmbeddings));
    }

    private static Ok<IReadOnlyList<PresetSummary>> Presets() =>
        TypedResults.Ok<IReadOnlyList<PresetSummary>>([.. ZeroShotPresets.All.Values.Select(p => new PresetSummary(p.Name, p.Classes.Count, p.Templates.Count, p.Source))]);
}

/// <summary>Multipart fields of classify (for the OpenAPI description).</summary>
/// <param name="Image">The image file.</param>
/// <param name="Labels">Labels, repeated or one per line (or use a preset).</param>
/// <param name="Preset">A preset name: cifar10, cifar100, imagenet, food101, …</param>
/// <param name="Templates">Prompt templates with {} for the label (default: the preset's, or "a photo of a {}.").</param>
/// <param name="K">How many labels to return (default 5).</param>
public sealed record ClassifyForm(IFormFile Image, string[]? Labels, string? Preset, string[]? Templates, int? K);

/// <summary>Ranked labels.</summary>
/// <param name="Labels">Top k, most probable first.</param>
/// <param name="LabelCount">Labels scored.</param>
/// <param name="TemplateCount">Templates per label.</param>
/// <param name="Milliseconds">Time taken.</param>
/// <param name="LabelEmbeddings">Where the label embeddings came from: memory, disk (the cache of a preset from an earlier run) or computed.</param>
public sealed record ClassifyResponse(IReadOnlyList<LabelScore> Labels, int LabelCount, int TemplateCount, double Milliseconds, LabelEmbeddingSource LabelEmbeddings);

/// <summary>A preset.</summary>
/// <param name="Name">Its name for the <c>preset</c> field.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Templates">Number of templates.</param>
/// <param name="Source">Where it comes from.</param>
public sealed record PresetSummary(string Name, int Classes, int Templates, string Source);
