using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>
/// A library's vectors searched in memory: kept in an <see cref="ExactIndex"/>, brought up to date before each
/// search (new rows are appended; a deletion reloads), and above a size threshold an <see cref="HnswIndex"/> finds
/// candidates that are re-ranked exactly, once its recall has been measured good enough. Thread-safe.
/// </summary>
public sealed partial class InMemoryVectorIndex(ILibraryStore store, VectorIndexOptions? options = null) : IVectorIndex
{
    private readonly ILibraryStore _store = store;
    private readonly VectorIndexOptions _options = options ?? new VectorIndexOptions();
    private readonly SemaphoreSlim _refresh = new(1, 1);

    // Searches read the graph under this lock; replacing, freeing or extending it (native memory) takes it for
    // writing, and a search that finds it taken scans exactly instead of waiting.
    private readonly ReaderWriterLockSlim _graphLock = new();
    private ExactIndex? _exact;
    private HnswIndex? _hnsw;
    private long _generation = -1;
    private string? _modelHash;
    private HnswCoverage? _savedCoverage;
    private (string ModelHash, IReadOnlyList<float[]> Vectors)? _textQueries;

    /// <summary>The in-memory vectors (null before the first refresh).</summary>
    public ExactIndex? Exact => _exact;

    /// <summary>True when searches go through the HNSW graph (it exists and its measured recall is high enough).</summary>
    public bool UsesHnsw => _hnsw?.Coverage.Recall is { Usable: true };

    /// <summary>What the recall check found for the graph, or null when the library has no graph.</summary>
    public HnswRecall? HnswRecall => _hnsw?.Coverage.Recall;

    /// <summary>Brings the in-memory vectors (and graph) up to date with the store.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await _store.GetModelAsync(cancellationToken).ConfigureAwait(false);
            var generation = await _store.GetGenerationAsync(cancellationToken).ConfigureAwait(false);
            if (model is null)
            {
                ReplaceGraph(null);
                (_exact, _generation, _modelHash) = (null, generation, null);
                return;
            }

            // After a deletion or a model change the vectors are loaded again into a new index, which replaces
            // the old one only when complete: searches meanwhile see the old vectors, not an empty library.
            var exact = _exact;
            var reload = exact is null || generation != _generation || model.Hash != _modelHash || exact.Dim != model.EmbeddingDim;
            if (reload)
            {
                exact = new ExactIndex(model.EmbeddingDim, _options.HalfPrecision);
            }

            var fresh = await _store.LoadVectorsAsync(exact!.MaxId, cancellationToken).ConfigureAwait(false);
            exact.Add(fresh.Ids, fresh.Vectors);
            if (reload)
            {
                ReplaceGraph(null);
                (_exact, _generation, _modelHash) = (exact, generation, model.Hash);
            }

            UpdateHnsw(exact, model.Hash, generation, await TextQueriesAsync(model.Hash, exact.Count, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The library's text queries for the recall check (<see cref="RecallTextQueries"/>), read once per model, only for a library large enough for a graph.</summary>
    private async Task<IReadOnlyList<float[]>?> TextQueriesAsync(string modelHash, int count, CancellationToken cancellationToken)
    {
        if (_options.HnswThreshold <= 0 || count < _options.HnswThreshold)
        {
            return null;
        }

        if (_textQueries is { } cached && cached.ModelHash == modelHash)
        {
            return cached.Vectors;
        }

        var loaded = await RecallTextQueries.LoadAsync(_store, cancellationToken).ConfigureAwait(false);
        _textQueries = loaded is null ? null : (modelHash, loaded);
        return loaded;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return Search(query, k);
    }

    /// <inheritdoc/>
    /// <remarks>Only a library large enough for a graph loads its vectors here (a small one is loaded by its first search), and the graph is saved.</remarks>
    public async Task UpdateAfterIndexingAsync(long contents, CancellationToken cancellationToken = default)
    {
        if (_options.HnswThreshold > 0 && contents >= _options.HnswThreshold)
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            SaveHnsw();
        }
    }

    /// <inheritdoc/>
    public async Task<SearchMethod> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var recall = HnswRecall;
        if (recall is null && _options.HnswPath is not null)
        {
            // Vectors not loaded yet (stats, a fresh server): what the saved graph of this model says.
            var model = await _store.GetModelAsync(cancellationToken).ConfigureAwait(false);
            recall = model is not null && HnswIndex.ReadCoverage(_options.HnswPath) is { } saved && saved.ModelHash == model.Hash ? saved.Recall : null;
        }

        if (recall is not null)
        {
            return SearchMethod.Measured(SearchMethodKind.Hnsw, recall) with { HnswThreshold = _options.HnswThreshold };
        }

        var threshold = _options.HnswThreshold;
        var contents = (await _store.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Contents;
        return new SearchMethod(SearchMethodKind.Exact)
        {
            ExactBecause = threshold <= 0 || contents < threshold ? ExactSearchReason.BelowThreshold : ExactSearchReason.GraphNotBuilt,
            HnswThreshold = threshold,
        };
    }

    /// <inheritdoc/>
    public async Task<T> ScanInMemoryAsync<T>(Func<InMemoryVectorIndex, T> scan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scan);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return scan(this);
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

        if (_graphLock.TryEnterReadLock(0))
        {
            try
            {
                if (_hnsw is { Coverage.Recall: { Usable: true } recall } hnsw)
                {
                    return Rerank(exact, hnsw, query, k, recall.CandidatesPerResult);
                }
            }
            finally
            {
                _graphLock.ExitReadLock();
            }
        }

        return [.. exact.Search(query, k).Select(h => new VectorHit(h.Id, h.Score))];
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

    /// <summary>Saves the HNSW graph beside the database (when there is one, a path is set, and it changed since saved).</summary>
    public void SaveHnsw()
    {
        _refresh.Wait();   // no refresh changes the graph meanwhile; searches only read it
        try
        {
            SaveGraph();
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ReplaceGraph(null);
        _graphLock.Dispose();
        _refresh.Dispose();
    }

    private void SaveGraph()
    {
        var hnsw = _hnsw;
        if (hnsw is null || _options.HnswPath is null || ReferenceEquals(hnsw.Coverage, _savedCoverage))
        {
            return;
        }

        try
        {
            hnsw.Save(_options.HnswPath);
            _savedCoverage = hnsw.Coverage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Cloud.Unum.USearch.USearchException)
        {
            // The saved graph is a cache: a read-only folder or a full disk only means it is built again next time.
        }
    }

    private void ReplaceGraph(HnswIndex? graph)
    {
        _graphLock.EnterWriteLock();
        try
        {
            var old = _hnsw;
            _hnsw = graph;
            if (old is not null && !ReferenceEquals(old, graph))
            {
                old.Dispose();
            }
        }
        finally
        {
            _graphLock.ExitWriteLock();
        }
    }

    private void UpdateHnsw(ExactIndex exact, string modelHash, long generation, IReadOnlyList<float[]>? textQueries)
    {
        if (_options.HnswThreshold <= 0 || exact.Count < _options.HnswThreshold)
        {
            return;
        }

        var hnsw = _hnsw;
        var built = false;
        if (hnsw is null && _options.HnswPath is not null && HnswIndex.TryLoad(_options.HnswPath, modelHash, generation, exact.Dim) is { } saved)
        {
            if (exact.RowOf(saved.Coverage.MaxId) >= 0)
            {
                hnsw = saved;
                _savedCoverage = saved.Coverage;
            }
            else
            {
                saved.Dispose();
            }
        }

        if (hnsw is null)
        {
            hnsw = HnswIndex.Create(exact.Dim, modelHash, generation);
            built = true;
        }

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

            if (ReferenceEquals(hnsw, _hnsw))
            {
                _graphLock.EnterWriteLock();   // the live graph grows (and may reallocate): no search reads it meanwhile
                try
                {
                    hnsw.Add(ids, vectors);
                }
                finally
                {
                    _graphLock.ExitWriteLock();
                }
            }
            else
            {
                hnsw.Add(ids, vectors);
            }
        }

        // Measure recall once, again whenever the library has grown by a quarter since (deletions rebuild the graph),
        // and again once text queries exist for a graph measured without them.
        if (HnswRecallCheck.IsDue(hnsw.Coverage.Recall, hnsw.Coverage.Count, textQueries is not null))
        {
            hnsw.SetRecall(HnswRecallCheck.Measure(exact, hnsw, _options.MinimumRecall, textQueries));
        }

        ReplaceGraph(hnsw);
        if (built)
        {
            SaveGraph();   // a graph built from nothing took minutes at 1M: keep it for the next process at once
        }
    }
}
