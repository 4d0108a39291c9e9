using System.Collections.Concurrent;
using System.Numerics.Tensors;
using ClipSearch.Core.Model;

namespace ClipSearch.Core.Similarity;

/// <summary>
/// CLIP's zero-shot classifier with prompt ensembling, as in the CLIP paper: each label is put into every template
/// ("a photo of a {}."), the normalised text embeddings are averaged and the mean renormalised; an image's
/// probabilities are the softmax of logit_scale × cosine over the labels. Label embeddings are cached per
/// (template set, label), so a preset of 1,000 classes × 80 templates is encoded once per model.
/// </summary>
public sealed class ZeroShotClassifier
{
    /// <summary>Where the label goes in a template.</summary>
    public const string Placeholder = "{}";

    /// <summary>The template used when none is given.</summary>
    public const string DefaultTemplate = "a photo of a {}.";

    /// <summary>Prompts embedded between two progress reports (whole labels: at least one label's templates).</summary>
    public const int PromptsPerChunk = 256;

    private readonly Func<IReadOnlyList<string>, float[][]> _embedTexts;
    private readonly float _logitScale;
    private readonly ConcurrentDictionary<(string Templates, string Label), float[]> _cache = new();

    /// <summary>A classifier that embeds prompts with <paramref name="model"/>.</summary>
    public ZeroShotClassifier(ClipModel model)
        : this((model ?? throw new ArgumentNullException(nameof(model))).EmbedTexts, model.LogitScale.Value)
    {
    }

    /// <summary>A classifier that embeds prompts with <paramref name="embedTexts"/> (normalised embeddings).</summary>
    public ZeroShotClassifier(Func<IReadOnlyList<string>, float[][]> embedTexts, float logitScale)
    {
        _embedTexts = embedTexts ?? throw new ArgumentNullException(nameof(embedTexts));
        _logitScale = logitScale;
    }

    /// <summary>Label embeddings held in the cache.</summary>
    public int CachedLabels => _cache.Count;

    /// <summary><paramref name="template"/> with <paramref name="label"/> in place of <see cref="Placeholder"/>.</summary>
    public static string Prompt(string template, string label)
    {
        ArgumentNullException.ThrowIfNull(template);
        return template.Replace(Placeholder, label, StringComparison.Ordinal);
    }

    /// <summary>The mean of normalised embeddings, renormalised (one label's ensembled embedding).</summary>
    public static float[] Ensemble(IReadOnlyList<float[]> normalisedEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(normalisedEmbeddings);
        if (normalisedEmbeddings.Count == 0)
        {
            throw new ArgumentException("At least one embedding is needed.", nameof(normalisedEmbeddings));
        }

        var mean = new float[normalisedEmbeddings[0].Length];
        foreach (var embedding in normalisedEmbeddings)
        {
            TensorPrimitives.Add(mean, embedding, mean);
        }

        Vectors.NormalizeInPlace(mean);
        return mean;
    }

    /// <summary>One ensembled embedding per label (from the cache where it can).</summary>
    /// <exception cref="ClipSearchException">No labels, an empty label, or a template without <see cref="Placeholder"/>.</exception>
    public float[][] LabelEmbeddings(IReadOnlyList<string> labels, IReadOnlyList<string> templates) =>
        LabelEmbeddings(labels, templates, null, CancellationToken.None);

    /// <summary>
    /// One ensembled embedding per label (from the cache where it can); the missing labels' prompts are embedded in
    /// chunks of about <see cref="PromptsPerChunk"/>, reporting progress after each and stopping between chunks
    /// when <paramref name="cancellationToken"/> is cancelled (labels finished so far stay cached).
    /// </summary>
    /// <exception cref="ClipSearchException">No labels, an empty label, or a template without <see cref="Placeholder"/>.</exception>
    public float[][] LabelEmbeddings(IReadOnlyList<string> labels, IReadOnlyList<string> templates, IProgress<ZeroShotProgress>? progress, CancellationToken cancellationToken)
    {
        Validate(labels, templates);
        var key = string.Join('\n', templates);
        var missing = labels.Distinct(StringComparer.Ordinal).Where(l => !_cache.ContainsKey((key, l))).ToArray();
        var total = missing.Length * templates.Count;
        var labelsPerChunk = Math.Max(1, PromptsPerChunk / templates.Count);
        for (var start = 0; start < missing.Length; start += labelsPerChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = missing.AsSpan(start, Math.Min(labelsPerChunk, missing.Length - start)).ToArray();
            var embeddings = _embedTexts([.. chunk.SelectMany(l => templates.Select(t => Prompt(t, l)))]);
            for (var i = 0; i < chunk.Length; i++)
            {
                _cache[(key, chunk[i])] = Ensemble(embeddings.Skip(i * templates.Count).Take(templates.Count).ToArray());
            }

            progress?.Report(new ZeroShotProgress((start + chunk.Length) * templates.Count, total));
        }

        return [.. labels.Select(l => _cache[(key, l)])];
    }

    /// <summary>Whether every label's embedding for <paramref name="templates"/> is in the cache.</summary>
    public bool IsCached(IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        var key = string.Join('\n', templates);
        return labels.All(l => _cache.ContainsKey((key, l)));
    }

    /// <summary>
    /// Puts label embeddings computed earlier (by this model, for these templates; for example read from a disk
    /// cache) into the cache, so that <see cref="LabelEmbeddings(IReadOnlyList{string}, IReadOnlyList{string})"/> does not embed them again.
    /// </summary>
    public void Remember(IReadOnlyList<string> labels, IReadOnlyList<string> templates, IReadOnlyList<float[]> embeddings)
    {
        Validate(labels, templates);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count != labels.Count)
        {
            throw new ArgumentException($"{embeddings.Count} embeddings for {labels.Count} labels.", nameof(embeddings));
        }

        var key = string.Join('\n', templates);
        for (var i = 0; i < labels.Count; i++)
        {
            _cache[(key, labels[i])] = embeddings[i];
        }
    }

    /// <summary>All labels ranked by probability for one normalised image embedding.</summary>
    public IReadOnlyList<LabelScore> Classify(float[] imageEmbedding, IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(imageEmbedding);
        var labelEmbeddings = LabelEmbeddings(labels, templates);
        var result = MatchResult.Compute([imageEmbedding], labelEmbeddings, _logitScale);
        return [.. labels
            .Select((label, i) => new LabelScore(label, result.Probabilities[0][i], result.Cosine[0][i], result.Logits[0][i]))
            .OrderByDescending(s => s.Probability)];
    }

    private static void Validate(IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        if (labels.Count == 0)
        {
            throw new ClipSearchException("No labels: give at least one label (one per line) or a preset.");
        }

        if (labels.Any(string.IsNullOrWhiteSpace))
        {
            throw new ClipSearchException("A label is empty.");
        }

        if (templates.Count == 0)
        {
            throw new ClipSearchException("No templates: give at least one, such as \"a photo of a {}.\".");
        }

        if (templates.FirstOrDefault(t => !t.Contains(Placeholder, StringComparison.Ordinal)) is { } bad)
        {
            throw new ClipSearchException($"The template \"{bad}\" has no {{}} where the label goes.");
        }
    }
}

/// <summary>Progress of embedding a label set's prompts.</summary>
/// <param name="PromptsDone">Prompts embedded so far.</param>
/// <param name="PromptsTotal">Prompts to embed (labels not yet cached × templates).</param>
public sealed record ZeroShotProgress(int PromptsDone, int PromptsTotal);

/// <summary>A label's score for one image.</summary>
/// <param name="Label">The label.</param>
/// <param name="Probability">Softmax over the labels.</param>
/// <param name="Cosine">Cosine of the image and the ensembled label embedding.</param>
/// <param name="Logit">logit_scale × cosine.</param>
public sealed record LabelScore(string Label, float Probability, float Cosine, float Logit);
