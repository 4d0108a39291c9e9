using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using ClipSearch.Core.Model;

namespace ClipSearch.Core.Similarity;

/// <summary>
/// CLIP's zero-shot classifier with prompt ensembling, as in the CLIP paper: each label is put into every template
/// ("a photo of a {}."), the normalised text embeddings are averaged and the mean renormalised; an image's
/// probabilities are the softmax of logit_scale × cosine over the labels. Label embeddings are cached per
/// (template set, label), so a preset of 1,000 classes × 80 templates is encoded once per model; the cache is
/// bounded by bytes (<see cref="CacheCapacityBytes"/>, least recently used first out), and a request never depends
/// on its labels staying in it: it keeps what it read or embedded until it has answered.
/// </summary>
public sealed class ZeroShotClassifier
{
    /// <summary>Where the label goes in a template.</summary>
    public const string Placeholder = "{}";

    /// <summary>The template used when none is given.</summary>
    public const string DefaultTemplate = "a photo of a {}.";

    /// <summary>Prompts embedded between two progress reports (whole labels: at least one label's templates).</summary>
    public const int PromptsPerChunk = 256;

    /// <summary>The default bound of the label-embedding cache: 64 MiB (ImageNet's 1,000 classes take about 2).</summary>
    public const long DefaultCacheBytes = 64L * 1024 * 1024;

    /// <summary>
    /// What one cached label costs beyond its floats and its text: the array and string headers, the key (the
    /// template set's 128-bit hash and the label), the dictionary entry and the recency list's node.
    /// </summary>
    private const int EntryOverheadBytes = 160;

    /// <summary>Prompts that must have been embedded before <see cref="PromptsPerSecond"/> says anything.</summary>
    public const int PromptsForRate = 32;

    private readonly Func<IReadOnlyList<string>, float[][]> _embedTexts;
    private readonly float _logitScale;
    private long _promptsEmbedded;
    private long _embeddingTicks;
    private readonly LruByteCache<(UInt128 Templates, string Label), float[]> _cache;

    /// <summary>A classifier that embeds prompts with <paramref name="model"/>; its cache holds at most <paramref name="cacheBytes"/>.</summary>
    public ZeroShotClassifier(ClipModel model, long cacheBytes = DefaultCacheBytes)
        : this((model ?? throw new ArgumentNullException(nameof(model))).EmbedTexts, model.LogitScale.Value, cacheBytes)
    {
    }

    /// <summary>A classifier that embeds prompts with <paramref name="embedTexts"/> (normalised embeddings); its cache holds at most <paramref name="cacheBytes"/>.</summary>
    public ZeroShotClassifier(Func<IReadOnlyList<string>, float[][]> embedTexts, float logitScale, long cacheBytes = DefaultCacheBytes)
    {
        _embedTexts = embedTexts ?? throw new ArgumentNullException(nameof(embedTexts));
        _logitScale = logitScale;
        _cache = new LruByteCache<(UInt128, string), float[]>(cacheBytes);
    }

    /// <summary>
    /// Prompts per second through the text encoder, measured on every prompt this classifier has embedded (and on
    /// <see cref="MeasureRate"/>), or null before <see cref="PromptsForRate"/> have been: what estimates of a label
    /// set's first use are made from.
    /// </summary>
    public double? PromptsPerSecond
    {
        get
        {
            var prompts = Interlocked.Read(ref _promptsEmbedded);
            var ticks = Interlocked.Read(ref _embeddingTicks);
            return prompts < PromptsForRate || ticks <= 0 ? null : prompts / TimeSpan.FromTicks(ticks).TotalSeconds;
        }
    }

    /// <summary>
    /// Embeds <paramref name="samplePrompts"/> (at least <see cref="PromptsForRate"/>; their embeddings are not
    /// kept) to measure <see cref="PromptsPerSecond"/> before any label set has been embedded; one untimed batch
    /// first, so that ONNX Runtime's first-run costs do not count.
    /// </summary>
    public double MeasureRate(IReadOnlyList<string> samplePrompts)
    {
        ArgumentNullException.ThrowIfNull(samplePrompts);
        if (samplePrompts.Count < PromptsForRate)
        {
            throw new ArgumentException($"At least {PromptsForRate} prompts are needed.", nameof(samplePrompts));
        }

        _ = _embedTexts([.. samplePrompts.Take(PromptsForRate / 2)]);
        _ = Embed(samplePrompts);
        return PromptsPerSecond!.Value;
    }

    /// <summary>Label embeddings held in the cache.</summary>
    public int CachedLabels => _cache.Count;

    /// <summary>Bytes the cache holds now (floats, texts and bookkeeping; at most <see cref="CacheCapacityBytes"/>).</summary>
    public long CachedBytes => _cache.Bytes;

    /// <summary>The most bytes the cache holds.</summary>
    public long CacheCapacityBytes => _cache.CapacityBytes;

    /// <summary>Entries dropped so far to stay within <see cref="CacheCapacityBytes"/>.</summary>
    public long CacheEvictions => _cache.Evictions;

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
        var key = TemplatesKey(templates);
        // What this call found or made, kept here: the cache may evict any of it meanwhile (other requests, or this
        // one's own labels when there are more than it holds).
        var found = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var label in labels.Distinct(StringComparer.Ordinal))
        {
            if (_cache.TryGet((key, label), out var embedding))
            {
                found[label] = embedding;
            }
            else
            {
                missing.Add(label);
            }
        }

        var total = missing.Count * templates.Count;
        var labelsPerChunk = Math.Max(1, PromptsPerChunk / templates.Count);
        for (var start = 0; start < missing.Count; start += labelsPerChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = missing.GetRange(start, Math.Min(labelsPerChunk, missing.Count - start));
            var embeddings = Embed([.. chunk.SelectMany(l => templates.Select(t => Prompt(t, l)))]);
            for (var i = 0; i < chunk.Count; i++)
            {
                var ensembled = Ensemble(embeddings.Skip(i * templates.Count).Take(templates.Count).ToArray());
                found[chunk[i]] = ensembled;
                Store(key, chunk[i], ensembled);
            }

            progress?.Report(new ZeroShotProgress((start + chunk.Count) * templates.Count, total));
        }

        return [.. labels.Select(l => found[l])];
    }

    /// <summary>
    /// Every label's embedding for <paramref name="templates"/>, read from the cache at once (they become the most
    /// recently used), or null when any is missing: then nothing is embedded here (the caller embeds them, with
    /// progress and cancellation, through <see cref="LabelEmbeddings(IReadOnlyList{string}, IReadOnlyList{string}, IProgress{ZeroShotProgress}?, CancellationToken)"/>).
    /// Unlike <see cref="IsCached"/> followed by a read, no eviction can come in between.
    /// </summary>
    public float[][]? TryGetAll(IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        if (labels.Count == 0)
        {
            return null;
        }

        var key = TemplatesKey(templates);
        return _cache.TryGetAll([.. labels.Select(l => (key, l))]);
    }

    /// <summary>Whether every label's embedding for <paramref name="templates"/> is in the cache (a read after it may still miss: see <see cref="TryGetAll"/>).</summary>
    public bool IsCached(IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        var key = TemplatesKey(templates);
        return labels.All(l => _cache.Contains((key, l)));
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

        var key = TemplatesKey(templates);
        for (var i = 0; i < labels.Count; i++)
        {
            Store(key, labels[i], embeddings[i]);
        }
    }

    /// <summary>All labels ranked by probability for one normalised image embedding, with these labels' embeddings.</summary>
    public IReadOnlyList<LabelScore> Classify(float[] imageEmbedding, IReadOnlyList<string> labels, IReadOnlyList<float[]> labelEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(imageEmbedding);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(labelEmbeddings);
        if (labelEmbeddings.Count != labels.Count)
        {
            throw new ArgumentException($"{labelEmbeddings.Count} embeddings for {labels.Count} labels.", nameof(labelEmbeddings));
        }

        var result = MatchResult.Compute([imageEmbedding], labelEmbeddings, _logitScale);
        return [.. labels
            .Select((label, i) => new LabelScore(label, result.Probabilities[0][i], result.Cosine[0][i], result.Logits[0][i]))
            .OrderByDescending(s => s.Probability)];
    }

    // Embeds prompts and counts them and their time into PromptsPerSecond.
    private float[][] Embed(IReadOnlyList<string> prompts)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var embeddings = _embedTexts(prompts);
        Interlocked.Add(ref _embeddingTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
        Interlocked.Add(ref _promptsEmbedded, prompts.Count);
        return embeddings;
    }

    // The template set as a 128-bit hash (SHA-256, each template prefixed by its length, so that ("a\nb", "c")
    // and ("a", "b\nc") differ): a cached label costs the same whatever the length of its templates.
    private static UInt128 TemplatesKey(IReadOnlyList<string> templates)
    {
        var text = string.Concat(templates.Select(t => $"{t.Length}:{t}"));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private void Store(UInt128 key, string label, float[] embedding) =>
        _cache.Set((key, label), embedding, ((long)embedding.Length * sizeof(float)) + ((long)label.Length * sizeof(char)) + EntryOverheadBytes);

    /// <summary>All labels ranked by probability for one normalised image embedding.</summary>
    public IReadOnlyList<LabelScore> Classify(float[] imageEmbedding, IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(imageEmbedding);
        return Classify(imageEmbedding, labels, LabelEmbeddings(labels, templates));
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
