using System.Numerics.Tensors;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>How a library is searched in memory.</summary>
public sealed record SearchOptions
{
    /// <summary>Libraries with at least this many contents get an HNSW graph; smaller ones are searched exactly.</summary>
    public const int DefaultHnswThreshold = 50_000;

    /// <summary>Keep vectors as float16 (half the memory; scores differ by about 1e-3).</summary>
    public bool HalfPrecision { get; init; }

    /// <summary>See <see cref="DefaultHnswThreshold"/>; 0 turns HNSW off.</summary>
    public int HnswThreshold { get; init; } = DefaultHnswThreshold;

    /// <summary>Where the graph is saved (beside the database), or null to keep it in memory only.</summary>
    public string? HnswPath { get; init; }

    /// <summary>Keep vectors in memory even when the store searches itself (needed to compare every pair).</summary>
    public bool InMemory { get; init; }

    /// <summary>
    /// recall@10 against exact search a graph must reach on the library's own vectors to be used
    /// (<see cref="HnswRecallCheck"/>); below it, searches stay exact.
    /// </summary>
    public double MinimumRecall { get; init; } = 0.95;
}

/// <summary>
/// Searches a library's vectors. A store that searches itself (pgvector) is asked directly; otherwise the
/// vectors are kept in memory (<see cref="ExactIndex"/>), brought up to date before each search (new rows are
/// appended; a deletion reloads), and above a size threshold an <see cref="HnswIndex"/> finds candidates that
/// are re-ranked exactly. Thread-safe.
/// </summary>
public sealed class LibrarySearcher(ILibraryStore store, SearchOptions? options = null) : IDisposable
{
    private readonly ILibraryStore _store = store;
    private readonly SearchOptions _options = options ?? new SearchOptions();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private ExactIndex? _exact;
    private HnswIndex? _hnsw;
    private long _generation = -1;
    private string? _modelHash;

    /// <summary>The in-memory vectors (null for a store that searches itself, or before the first refresh).</summary>
    public ExactIndex? Exact => _exact;

    /// <summary>True when searches go through the HNSW graph (it exists and its measured recall is high enough).</summary>
    public bool UsesHnsw => _hnsw?.Coverage.Recall is { Usable: true };

    /// <summary>What the recall check found for the graph, or null when the library has no graph.</summary>
    public HnswRecall? HnswRecall => _hnsw?.Coverage.Recall;

    /// <summary>Brings the in-memory vectors (and graph) up to date with the store.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        if (_store is INativeVectorSearch && !_options.InMemory)
        {
            return;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await _store.GetModelAsync(cancellationToken).ConfigureAwait(false);
            var generation = await _store.GetGenerationAsync(cancellationToken).ConfigureAwait(false);
            if (model is null)
            {
                Reset(null, generation, 0);
                return;
            }

            if (_exact is null || generation != _generation || model.Hash != _modelHash || _exact.Dim != model.EmbeddingDim)
            {
                Reset(model.Hash, generation, model.EmbeddingDim);
            }

            var exact = _exact!;
            var fresh = await _store.LoadVectorsAsync(exact.MaxId, cancellationToken).ConfigureAwait(false);
            exact.Add(fresh.Ids, fresh.Vectors);
            UpdateHnsw(exact, model.Hash, generation);
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The <paramref name="k"/> contents nearest to <paramref name="query"/> (a unit vector), best first.</summary>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (_store is INativeVectorSearch native && !_options.InMemory)
        {
            return await native.SearchAsync(query, k, cancellationToken).ConfigureAwait(false);
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return Search(query, k);
    }

    /// <summary>Searches what is in memory now (no refresh).</summary>
    public IReadOnlyList<VectorHit> Search(float[] query, int k)
    {
        ArgumentNullException.ThrowIfNull(query);
        var exact = _exact;
        if (exact is null || exact.Count == 0)
        {
            return [];
        }

        if (query.Length != exact.Dim)
        {
            throw new Core.ClipSearchException($"The query has {query.Length} dimensions; the library's vectors have {exact.Dim}.");
        }

        var hnsw = _hnsw;
        if (hnsw?.Coverage.Recall is not { Usable: true } recall)
        {
            return [.. exact.Search(query, k).Select(h => new VectorHit(h.Id, h.Score))];
        }

        return Rerank(exact, hnsw, query, k, recall.CandidatesPerResult);
    }

    /// <summary>
    /// HNSW candidates (<paramref name="perResult"/> per result, at least the graph's search breadth) scored
    /// exactly; rows appended after the graph was last updated are scanned too, so nothing new is missed.
    /// </summary>
    public static IReadOnlyList<VectorHit> Rerank(ExactIndex exact, HnswIndex hnsw, float[] query, int k, int perResult)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(hnsw);
        var candidates = hnsw.Search(query, Math.Max(k * perResult, HnswIndex.ExpansionSearch));
        var hits = new List<VectorHit>(candidates.Length);
        foreach (var id in candidates)
        {
            var row = exact.RowOf((long)id);
            if (row >= 0)
            {
                hits.Add(new VectorHit((long)id, exact.Score(query, row)));
            }
        }

        var firstUncovered = exact.RowOf(hnsw.Coverage.MaxId) + 1;
        for (var row = Math.Max(firstUncovered, 0); row < exact.Count; row++)
        {
            hits.Add(new VectorHit(exact.IdAt(row), exact.Score(query, row)));
        }

        return [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.ContentId).Take(k)];
    }

    /// <summary>Saves the HNSW graph beside the database (when there is one and a path is set).</summary>
    public void SaveHnsw()
    {
        if (_hnsw is not null && _options.HnswPath is not null)
        {
            _hnsw.Save(_options.HnswPath);
        }
    }

    /// <summary>Normalises <paramref name="vector"/> in place; false when it is zero.</summary>
    internal static bool Normalize(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm <= 0 || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Divide(vector, norm, vector);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _hnsw?.Dispose();
        _refresh.Dispose();
    }

    private void Reset(string? modelHash, long generation, int dim)
    {
        _hnsw?.Dispose();
        _hnsw = null;
        _exact = dim > 0 ? new ExactIndex(dim, _options.HalfPrecision) : null;
        _generation = generation;
        _modelHash = modelHash;
    }

    private void UpdateHnsw(ExactIndex exact, string modelHash, long generation)
    {
        if (_options.HnswThreshold <= 0 || exact.Count < _options.HnswThreshold)
        {
            return;
        }

        if (_hnsw is null && _options.HnswPath is not null)
        {
            var saved = HnswIndex.TryLoad(_options.HnswPath, modelHash, generation, exact.Dim);
            _hnsw = saved is not null && exact.RowOf(saved.Coverage.MaxId) >= 0 ? saved : null;
            if (saved is not null && _hnsw is null)
            {
                saved.Dispose();
            }
        }

        var hnsw = _hnsw ?? HnswIndex.Create(exact.Dim, modelHash, generation);
        var from = hnsw.Coverage.Count == 0 ? 0 : exact.RowOf(hnsw.Coverage.MaxId) + 1;
        var rows = exact.Count - from;
        if (rows > 0)
        {
            var ids = new long[rows];
            var vectors = new float[(long)rows * exact.Dim];
            for (var i = 0; i < rows; i++)
            {
                ids[i] = exact.IdAt(from + i);
                exact.CopyRow(from + i, vectors.AsSpan(i * exact.Dim, exact.Dim));
            }

            hnsw.Add(ids, vectors);
        }

        // Measure recall once, and again whenever the library has grown by a quarter since (deletions rebuild the graph).
        if (HnswRecallCheck.IsDue(hnsw.Coverage.Recall, hnsw.Coverage.Count))
        {
            hnsw.SetRecall(HnswRecallCheck.Measure(exact, hnsw, _options.MinimumRecall));
        }

        _hnsw = hnsw;
    }
}
