using ClipSearch.Core.Similarity;

namespace ClipSearch.Web.Services;

/// <summary>
/// Makes sure a label set's ensembled embeddings are in the model's classifier before it classifies: from memory,
/// else (for a preset) from the disk cache in <c>HOME/cache/zero-shot/</c>, else embedded with progress and, for a
/// preset, written there (<see cref="LabelEmbeddingCache.GetOrEmbed"/>: a cut-short embedding keeps what it did).
/// One label set is embedded at a time, so two requests for a cold preset embed it once, and the idle warming
/// (<see cref="WarmAsync"/>) never runs beside a request's embedding.
/// </summary>
public sealed class ZeroShotLabels(AppFolders folders, ILogger<ZeroShotLabels> log) : IDisposable
{
    private readonly SemaphoreSlim _embedding = new(1, 1);

    /// <summary>The disk cache.</summary>
    public LabelEmbeddingCache Cache { get; } = new(Path.Combine(folders.Cache, LabelEmbeddingCache.FolderName));

    /// <summary>
    /// The embeddings of <paramref name="labels"/> × <paramref name="templates"/> and where they came from, put
    /// into <paramref name="loaded"/>'s classifier on the way (which may evict them again: its cache is bounded;
    /// the embeddings returned are the caller's to keep).
    /// </summary>
    /// <param name="loaded">The model.</param>
    /// <param name="preset">The preset the labels are (cached on disk), or null for labels of the user's own (memory only).</param>
    /// <param name="labels">The labels.</param>
    /// <param name="templates">The templates.</param>
    /// <param name="progress">Prompts embedded so far, when they have to be embedded.</param>
    /// <param name="cancellationToken">Stops the embedding between chunks (a preset's finished labels are saved).</param>
    public async Task<(LabelEmbeddingSource Source, float[][] Embeddings)> EmbeddingsAsync(LoadedModel loaded, string? preset, IReadOnlyList<string> labels,
        IReadOnlyList<string> templates, IProgress<ZeroShotProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var classifier = loaded.Classifier;
        // Read at once or not at all: a label evicted between a check and a read would otherwise be embedded
        // here, outside the lock below, without progress or cancellation.
        if (classifier.TryGetAll(labels, templates) is { } held)
        {
            return (LabelEmbeddingSource.Memory, held);
        }

        await _embedding.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (classifier.TryGetAll(labels, templates) is { } heldNow)
            {
                return (LabelEmbeddingSource.Memory, heldNow);
            }

            if (preset is null)
            {
                var own = await Task.Run(() => classifier.LabelEmbeddings(labels, templates, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
                return (LabelEmbeddingSource.Computed, own);
            }

            return await Task.Run(() => FromDisk(loaded, preset, labels, templates, progress, ZeroShotClassifier.PromptsPerChunk, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _embedding.Release();
        }
    }

    /// <summary>
    /// Background warming: embeds a preset's labels into the disk cache in steps of about
    /// <paramref name="promptsPerStep"/> prompts, unless a request is embedding (then it returns false at once and
    /// does nothing). <paramref name="cancellationToken"/> stops it between steps, what was done kept.
    /// </summary>
    /// <returns>True when the preset's file is complete.</returns>
    public async Task<bool> WarmAsync(LoadedModel loaded, ZeroShotPreset preset, TemplateSet set, int promptsPerStep,
        IProgress<ZeroShotProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(preset);
        if (!await _embedding.WaitAsync(0, CancellationToken.None).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            // Its own thread: the steps block, and the pool's threads are the requests'.
            await Task.Factory.StartNew(() => FromDisk(loaded, preset.Name, preset.Classes, preset.TemplatesOf(set), progress, promptsPerStep, cancellationToken),
                cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _embedding.Release();
        }
    }

    /// <summary>Whether the preset's label embeddings for <paramref name="set"/> are on disk (or in the model's memory).</summary>
    public bool IsCached(LoadedModel loaded, ZeroShotPreset preset, TemplateSet set)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(preset);
        var templates = preset.TemplatesOf(set);
        return Cache.Has(loaded.Identity, preset.Name, preset.Classes, templates) || loaded.Classifier.IsCached(preset.Classes, templates);
    }

    /// <summary>
    /// Prompts per second of <paramref name="loaded"/>'s text encoder: measured on what it has embedded, else (when
    /// nothing is embedding) on <see cref="ZeroShotClassifier.PromptsForRate"/> prompts of <paramref name="sample"/>
    /// now (a fraction of a second); null while another embedding runs and nothing has been measured yet.
    /// </summary>
    public async Task<double?> PromptsPerSecondAsync(LoadedModel loaded, ZeroShotPreset sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(sample);
        if (loaded.Classifier.PromptsPerSecond is { } measured)
        {
            return measured;
        }

        if (!await _embedding.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            var prompts = sample.Classes.SelectMany(c => sample.DefaultTemplates.Select(t => ZeroShotClassifier.Prompt(t, c))).Take(ZeroShotClassifier.PromptsForRate).ToArray();
            return loaded.Classifier.PromptsPerSecond
                ?? await Task.Run(() => loaded.Classifier.MeasureRate(prompts), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _embedding.Release();
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _embedding.Dispose();

    private (LabelEmbeddingSource, float[][]) FromDisk(LoadedModel loaded, string preset, IReadOnlyList<string> labels, IReadOnlyList<string> templates,
        IProgress<ZeroShotProgress>? progress, int promptsPerChunk, CancellationToken cancellationToken)
    {
        var path = Cache.PathFor(loaded.Identity, preset, labels, templates);
        var existed = File.Exists(path);
        var result = Cache.GetOrEmbed(loaded.Classifier, loaded.Identity, loaded.Model.EmbeddingDim, preset, labels, templates, progress, cancellationToken,
            promptsPerChunk, (file, e) => log.LogWarning("Cannot write the label-embedding cache {Path}: {Message}", file, e.Message));
        if (existed && result.Source == LabelEmbeddingSource.Computed)
        {
            log.LogWarning("Ignored the label-embedding cache {Path}: it was truncated, corrupt or of another shape; embedded again", path);
        }

        return result;
    }
}
