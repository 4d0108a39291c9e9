using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>
/// Filtered search in memory: the images that pass are found in a <see cref="FilterCatalogue"/> kept in step with the
/// store (loaded at the first filtered search, loaded again whenever the store's files version moves: an index run,
/// a removed folder, a moved or re-dated file, in any process), never by SQL per query. A filter that lets few
/// images through has them scanned exactly; one that lets many through asks the HNSW graph for more candidates
/// (as many more as the filter is selective, growing until enough pass) and re-ranks those that pass exactly.
/// </summary>
public sealed partial class InMemoryVectorIndex
{
    /// <summary>
    /// The most candidates a filtered search asks of the graph; a filter that would need more (it lets fewer than
    /// about want / this through) scans the images that pass exactly instead.
    /// </summary>
    public const int MaxFilteredCandidates = 4096;

    private FilterCatalogue? _catalogue;
    private long _filteredByGraph;
    private long _filteredExactly;

    /// <summary>Filtered searches answered through the graph (for tests and benchmarks: which path ran).</summary>
    public long FilteredByGraph => Interlocked.Read(ref _filteredByGraph);

    /// <summary>Filtered searches answered by an exact scan of the images that pass.</summary>
    public long FilteredExactly => Interlocked.Read(ref _filteredExactly);

    /// <summary>The catalogue of what filters read, as last loaded (null before the first filtered search).</summary>
    public FilterCatalogue? Catalogue => _catalogue;

    /// <inheritdoc/>
    /// <remarks>
    /// Results equal an exact search over the contents with an image that passes: exactly so on the exact path
    /// (fewer than <see cref="VectorIndexOptions.FilteredExactBelow"/> pass, no trusted graph, or the graph did not
    /// yield enough passing candidates within <see cref="MaxFilteredCandidates"/>); on the graph path as the
    /// unfiltered graph search is, within its measured recall, since as many passing candidates are re-ranked per
    /// result as an unfiltered search re-ranks.
    /// </remarks>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(filter);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
        var exact = _exact;
        if (exact is null || exact.Count == 0)
        {
            return [];
        }

        if (query.Length != exact.Dim)
        {
            throw new Core.ClipSearchException($"The query has {query.Length} dimensions; the library's vectors have {exact.Dim}.");
        }

        var catalogue = await GetCatalogueAsync(cancellationToken).ConfigureAwait(false);
        if (catalogue is null)
        {
            // A store that keeps no files version: it names the passing contents each time.
            Interlocked.Increment(ref _filteredExactly);
            var passing = await _store.GetContentIdsAsync(filter, cancellationToken).ConfigureAwait(false);
            return [.. exact.SearchAmong(query, k, passing).Select(h => new VectorHit(h.Id, h.Score))];
        }

        return SearchFiltered(exact, catalogue.Select(filter), query, k);
    }

    /// <summary>The catalogue, loaded again when the store's files version moved; null when the store keeps none.</summary>
    private async Task<FilterCatalogue?> GetCatalogueAsync(CancellationToken cancellationToken)
    {
        var version = await _store.GetFilesVersionAsync(cancellationToken).ConfigureAwait(false);
        if (version is null)
        {
            return null;
        }

        if (_catalogue is { } current && current.Version == version)
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_catalogue is { } loaded && loaded.Version == version)
            {
                return loaded;   // another search loaded it meanwhile
            }

            var (at, files) = await _store.GetFilterFieldsAsync(cancellationToken).ConfigureAwait(false);
            if (at is not { } readAt)
            {
                return null;
            }

            var catalogue = FilterCatalogue.Build(readAt, files);
            _catalogue = catalogue;
            return catalogue;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private IReadOnlyList<VectorHit> SearchFiltered(ExactIndex exact, FilterSelection selection, float[] query, int k)
    {
        if (selection.Bound == 0)
        {
            Interlocked.Increment(ref _filteredExactly);
            return [];
        }

        var estimated = selection.Fraction * exact.Count;
        if (estimated >= _options.FilteredExactBelow && TrySearchGraph(exact, selection, query, k) is { } hits)
        {
            Interlocked.Increment(ref _filteredByGraph);
            return hits;
        }

        Interlocked.Increment(ref _filteredExactly);
        var rows = new List<int>(Math.Min(selection.Bound, exact.Count));
        foreach (var id in selection.PassingContents())
        {
            var row = exact.RowOf(id);
            if (row >= 0)
            {
                rows.Add(row);   // ascending: ids and rows are in the same order
            }
        }

        return [.. exact.SearchRows(query, k, [.. rows]).Select(h => new VectorHit(h.Id, h.Score))];
    }

    /// <summary>
    /// Graph candidates that pass, re-ranked exactly: k × the graph's candidates per result of them (what an unfiltered
    /// search re-ranks), asking for about that many divided by the filter's share, four times more while too few pass,
    /// up to <see cref="MaxFilteredCandidates"/>; null when the graph is not trusted or busy, or too few passed even
    /// then (the caller scans exactly).
    /// </summary>
    private IReadOnlyList<VectorHit>? TrySearchGraph(ExactIndex exact, FilterSelection selection, float[] query, int k)
    {
        if (!_graphLock.TryEnterReadLock(0))
        {
            return null;
        }

        try
        {
            if (_hnsw is not { Coverage.Recall: { Usable: true } recall } hnsw)
            {
                return null;
            }

            var want = Math.Max(k, k * recall.CandidatesPerResult);
            var needed = want / Math.Max(selection.Fraction, 1e-9);
            if (needed > MaxFilteredCandidates)
            {
                return null;
            }

            var count = (int)Math.Clamp(Math.Ceiling(needed), Math.Max(want, HnswIndex.ExpansionSearch), MaxFilteredCandidates);
            var hits = new List<VectorHit>();
            while (true)
            {
                hits.Clear();
                var candidates = hnsw.Search(query, count);
                foreach (var candidate in candidates)
                {
                    var id = (long)candidate;
                    var row = exact.RowOf(id);
                    if (row >= 0 && selection.Passes(id))
                    {
                        hits.Add(new VectorHit(id, exact.Score(query, row)));
                    }
                }

                if (hits.Count >= want)
                {
                    break;
                }

                if (candidates.Length < count || count >= MaxFilteredCandidates)
                {
                    // Too few passed: the graph gave what it reaches (which need not be every row: a graph search
                    // can return fewer than asked without having seen them all), so the exact scan answers.
                    return null;
                }

                count = Math.Min(count * 4, MaxFilteredCandidates);
            }

            // Rows appended since the graph was last extended are scanned too (as unfiltered searches do).
            var firstUncovered = exact.RowOf(hnsw.Coverage.MaxId) + 1;
            for (var row = Math.Max(firstUncovered, 0); row < exact.Count; row++)
            {
                if (selection.Passes(exact.IdAt(row)))
                {
                    hits.Add(new VectorHit(exact.IdAt(row), exact.Score(query, row)));
                }
            }

            return [.. hits.OrderByDescending(h => h.Score).ThenBy(h => h.ContentId).Take(k)];
        }
        finally
        {
            _graphLock.ExitReadLock();
        }
    }
}
