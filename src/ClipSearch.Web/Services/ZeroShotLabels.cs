using System.Text.Json.Serialization;
using ClipSearch.Core.Similarity;

namespace ClipSearch.Web.Services;

/// <summary>Where a classification's label embeddings came from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LabelEmbeddingSource>))]
public enum LabelEmbeddingSource
{
    /// <summary>The loaded model's classifier had them (embedded earlier in this process).</summary>
    Memory,

    /// <summary>Read from the disk cache (a preset embedded by an earlier run with the same model files).</summary>
    Disk,

    /// <summary>Embedded now (and, for a preset, written to the disk cache).</summary>
    Computed,
}

/// <summary>
/// Makes sure a label set's ensembled embeddings are in the model's classifier before it classifies: from memory,
/// else (for a preset) from the disk cache in <c>HOME/cache/zero-shot/</c>, else embedded with progress and, for a
/// preset, written there. One label set is embedded at a time, so two requests for a cold preset embed it once.
/// </summary>
public sealed class ZeroShotLabels(AppFolders folders, ILogger<ZeroShotLabels> log) : IDisposable
{
    private readonly SemaphoreSlim _embedding = new(1, 1);

    /// <summary>The disk cache.</summary>
    public LabelEmbeddingCache Cache { get; } = new(Path.Combine(folders.Cache, "zero-shot"));

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
    /// <param name="cancellationToken">Stops the embedding between chunks.</param>
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

            var path = preset is null ? null : Cache.PathFor(loaded.Identity, preset, labels, templates);
            if (path is not null && LabelEmbeddingCache.TryRead(path, labels.Count, loaded.Model.EmbeddingDim) is { } stored)
            {
                classifier.Remember(labels, templates, stored);
                return (LabelEmbeddingSource.Disk, stored);
            }

            if (path is not null && File.Exists(path))
            {
                log.LogWarning("Ignoring the label-embedding cache {Path}: it is truncated, corrupt or of another shape; embedding again", path);
            }

            var embeddings = await Task.Run(() => classifier.LabelEmbeddings(labels, templates, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (path is not null)
            {
                try
                {
                    LabelEmbeddingCache.Write(path, embeddings);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A cache that cannot be written costs time on the next start, nothing else.
                    log.LogWarning("Cannot write the label-embedding cache {Path}: {Message}", path, e.Message);
                }
            }

            return (LabelEmbeddingSource.Computed, embeddings);
        }
        finally
        {
            _embedding.Release();
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _embedding.Dispose();
}
