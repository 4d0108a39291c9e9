using System.Runtime.InteropServices;
using System.Text.Json;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>
/// The text queries <see cref="HnswRecallCheck"/> measures an approximate index with, beside the library's own
/// image vectors: CLIP's text embeddings lie apart from its image embeddings (the modality gap), so a graph built
/// from images and entered with a text vector is entered from outside the data it was built on, and may find
/// fewer of the true neighbours than image queries suggest. They are <see cref="Count"/> prompts made from the
/// CIFAR-100 preset's class names, embedded once per model when a library is indexed with the text encoder
/// loaded, and kept in the library (a setting), so that a later check, in any process, needs no text encoder.
/// </summary>
public static class RecallTextQueries
{
    /// <summary>Text queries measured.</summary>
    public const int Count = 50;

    /// <summary>The prompt template (CLIP's most common: {} is the class name).</summary>
    public const string Template = "a photo of a {}.";

    /// <summary>The library setting that holds them.</summary>
    public const string Setting = "recall_text_queries";

    /// <summary>The prompts: <see cref="Template"/> with every other CIFAR-100 class name (50 of its 100, spread over the alphabet).</summary>
    public static IReadOnlyList<string> Prompts { get; } =
        [.. ZeroShotPresets.Get("cifar100").Classes.Where((_, i) => i % 2 == 0).Take(Count).Select(c => Template.Replace("{}", c, StringComparison.Ordinal))];

    /// <summary>
    /// The stored query vectors of the library's recorded model, or null when none are stored for it (none yet,
    /// or embedded by another model: a re-embedded library measures with its new model's text queries).
    /// </summary>
    public static async Task<IReadOnlyList<float[]>?> LoadAsync(ILibraryStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var model = await store.GetModelAsync(cancellationToken).ConfigureAwait(false);
        if (model is null || await store.GetSettingAsync(Setting, cancellationToken).ConfigureAwait(false) is not { } json)
        {
            return null;
        }

        StoredQueries? stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredQueries>(json);
        }
        catch (JsonException)
        {
            return null;   // damaged: embedded again at the next index run
        }

        if (stored is null || stored.ModelHash != model.Hash || stored.Dim != model.EmbeddingDim || stored.Vectors is not { Length: > 0 })
        {
            return null;
        }

        var vectors = new List<float[]>(stored.Vectors.Length);
        foreach (var base64 in stored.Vectors)
        {
            var bytes = Convert.FromBase64String(base64);
            if (bytes.Length != stored.Dim * sizeof(float))
            {
                return null;
            }

            vectors.Add(MemoryMarshal.Cast<byte, float>(bytes).ToArray());
        }

        return vectors;
    }

    /// <summary>
    /// The library's text queries: those stored for its recorded model, else embedded now with
    /// <paramref name="model"/> (which the library holds the embeddings of) and stored; null when none are stored
    /// and <paramref name="model"/> was loaded without its text encoder.
    /// </summary>
    public static async Task<IReadOnlyList<float[]>?> EnsureAsync(ILibraryStore store, ClipModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(model);
        if (await LoadAsync(store, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            return stored;
        }

        var identity = await store.GetModelAsync(cancellationToken).ConfigureAwait(false);
        if (!model.HasTextEncoder || identity is null || identity.EmbeddingDim != model.EmbeddingDim)
        {
            return null;
        }

        var vectors = model.EmbedTexts(Prompts);
        if (store.ReadOnlyReason is null)
        {
            await SaveAsync(store, identity, vectors, cancellationToken).ConfigureAwait(false);
        }

        return vectors;
    }

    /// <summary>
    /// Stores <paramref name="vectors"/> (unit vectors of <paramref name="model"/>'s dimension) as the library's
    /// text queries for <paramref name="model"/>: what <see cref="EnsureAsync"/> does with the prompts' embeddings;
    /// the benchmark stores a text-like synthetic set this way.
    /// </summary>
    public static Task SaveAsync(ILibraryStore store, ModelIdentity model, IReadOnlyList<float[]> vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0 || vectors.Any(v => v.Length != model.EmbeddingDim))
        {
            throw new ArgumentException($"Text queries must be one or more vectors of {model.EmbeddingDim} dimensions.", nameof(vectors));
        }

        var stored = new StoredQueries(model.Hash, model.EmbeddingDim, [.. vectors.Select(v => Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan())))]);
        return store.SetSettingAsync(Setting, JsonSerializer.Serialize(stored), cancellationToken);
    }

    private sealed record StoredQueries(string ModelHash, int Dim, string[] Vectors);
}
