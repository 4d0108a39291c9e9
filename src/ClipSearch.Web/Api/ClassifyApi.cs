using ClipSearch.Core;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Zero-shot classification:
/// <c>POST /api/classify</c> (multipart <c>image</c>, <c>labels</c> or <c>preset</c>, optional <c>templates</c> or
/// <c>templateSet</c> (default or all), <c>k</c>),
/// <c>GET /api/classify/presets</c> (with each preset's templates and the estimated time of its first use).
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
        api.MapGet("/presets", PresetsAsync).WithSummary("The built-in presets: class names and prompt templates from openai/CLIP, the templates used by default, and how long a first use takes with the loaded model (estimated from its measured prompts per second).");
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
        var set = form["templateSet"].ToString().Trim().ToLowerInvariant() switch
        {
            "" or "default" => TemplateSet.Default,
            "all" => TemplateSet.All,
            var other => throw new ClipSearchException($"templateSet is default or all, not '{other}'."),
        };
        var outcome = await clip.ClassifyAsync(uploads[0], FormInput.Lines(form, "labels"), form["preset"].ToString(),
            FormInput.Lines(form, "templates"), k, cancellationToken, templateSet: set).ConfigureAwait(false);
        return TypedResults.Ok(new ClassifyResponse(outcome.Ranked, outcome.LabelCount, outcome.TemplateCount, Math.Round(outcome.Elapsed.TotalMilliseconds, 1), outcome.LabelEmbeddings, outcome.TemplateSet));
    }

    private static async Task<Ok<IReadOnlyList<PresetSummary>>> PresetsAsync(ClipService clip, CancellationToken cancellationToken)
    {
        static double? Seconds(double? s) => s is { } v ? Math.Round(v, 1) : null;
        var costs = await clip.PresetCostsAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok<IReadOnlyList<PresetSummary>>([.. costs.Select(c => new PresetSummary(
            c.Preset.Name, c.Preset.Classes.Count, c.Preset.DefaultTemplates.Count, c.Preset.Source,
            c.Preset.DefaultTemplates, c.Preset.DefaultTemplatesSource, c.Preset.Templates.Count,
            c.Preset.Prompts(TemplateSet.Default), c.Preset.Prompts(TemplateSet.All),
            c.PromptsPerSecond is { } r ? Math.Round(r, 1) : null, c.Cached, c.CachedAll,
            Seconds(c.EstimatedSeconds(TemplateSet.Default)), Seconds(c.EstimatedSeconds(TemplateSet.All))))]);
    }
}

/// <summary>Multipart fields of classify (for the OpenAPI description).</summary>
/// <param name="Image">The image file.</param>
/// <param name="Labels">Labels, repeated or one per line (or use a preset).</param>
/// <param name="Preset">A preset name: cifar10, cifar100, imagenet, food101, …</param>
/// <param name="Templates">Prompt templates with {} for the label (default: the preset's template set, or "a photo of a {}.").</param>
/// <param name="TemplateSet">A preset's templates when none are given: default (ImageNet: the 7 CLIP's authors selected) or all (ImageNet: 80).</param>
/// <param name="K">How many labels to return (default 5).</param>
public sealed record ClassifyForm(IFormFile Image, string[]? Labels, string? Preset, string[]? Templates, string? TemplateSet, int? K);

/// <summary>Ranked labels.</summary>
/// <param name="Labels">Top k, most probable first.</param>
/// <param name="LabelCount">Labels scored.</param>
/// <param name="TemplateCount">Templates per label.</param>
/// <param name="Milliseconds">Time taken.</param>
/// <param name="LabelEmbeddings">Where the label embeddings came from: memory, disk (the cache of a preset from an earlier run) or computed.</param>
/// <param name="TemplateSet">The preset's template set used (default or all), or null for templates of the request's own.</param>
public sealed record ClassifyResponse(IReadOnlyList<LabelScore> Labels, int LabelCount, int TemplateCount, double Milliseconds, LabelEmbeddingSource LabelEmbeddings,
    TemplateSet? TemplateSet = null);

/// <summary>A preset.</summary>
/// <param name="Name">Its name for the <c>preset</c> field.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Templates">Number of templates used by default.</param>
/// <param name="Source">Where it comes from.</param>
/// <param name="DefaultTemplates">The templates used by default (<c>templateSet=default</c>).</param>
/// <param name="DefaultTemplatesSource">Where that subset comes from, or null when it is every template.</param>
/// <param name="AllTemplates">Number of templates with <c>templateSet=all</c> (the paper's full ensemble).</param>
/// <param name="Prompts">Prompts a first use embeds by default (classes × templates).</param>
/// <param name="AllPrompts">Prompts a first use embeds with all templates.</param>
/// <param name="PromptsPerSecond">The loaded model's measured text-encoder rate on this machine, or null.</param>
/// <param name="Cached">Whether the default templates' embeddings are cached for the loaded model (a use is then instant).</param>
/// <param name="CachedAll">The same for all templates.</param>
/// <param name="EstimatedSeconds">Estimated seconds of the first use by default (0 when cached; null without a model).</param>
/// <param name="EstimatedSecondsAll">The same with all templates.</param>
public sealed record PresetSummary(string Name, int Classes, int Templates, string Source, IReadOnlyList<string> DefaultTemplates, string? DefaultTemplatesSource,
    int AllTemplates, int Prompts, int AllPrompts, double? PromptsPerSecond, bool Cached, bool CachedAll, double? EstimatedSeconds, double? EstimatedSecondsAll);
