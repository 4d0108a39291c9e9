using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;

namespace ClipSearch.Library.Search;

/// <summary>
/// Filtered search on PostgreSQL: where pgvector's HNSW index is trusted (its recall check passed, or
/// <see cref="CandidatesOverride"/> fixes it) and the server's pgvector has iterative index scans (0.8 on, checked once
/// per open library), a filter that lets at least <see cref="VectorIndexOptions.FilteredExactBelow"/> images through
/// is served by the index (<see cref="PostgresLibraryStore.SearchFilteredIterativeAsync"/>), its candidates re-ranked
/// exactly; anything else, and an index scan that stops short, is an exact scan of the rows that pass.
/// </summary>
public sealed partial class PgvectorIndex
{
    /// <summary>The first pgvector with iterative index scans (<c>hnsw.iterative_scan</c>).</summary>
    public static readonly Version IterativeScansSince = new(0, 8, 0);

    private bool? _iterative;
    private long _filteredByIndex;
    private long _filteredExactly;

    /// <summary>Filtered searches answered through the HNSW index (for tests and benchmarks: which path ran).</summary>
    public long FilteredByIndex => Interlocked.Read(ref _filteredByIndex);

    /// <summary>Filtered searches answered by an exact scan of the rows that pass.</summary>
    public long FilteredExactly => Interlocked.Read(ref _filteredExactly);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(filter);
        var perResult = CandidatesOverride ?? (await GetRecallAsync(cancellationToken).ConfigureAwait(false) is { Usable: true } recall ? recall.CandidatesPerResult : 0);
        if (perResult > 0 && await SupportsIterativeScansAsync(cancellationToken).ConfigureAwait(false))
        {
            var line = Math.Max(1, _options.FilteredExactBelow);
            if (await store.CountPassingAsync(filter, line, cancellationToken).ConfigureAwait(false) >= line
                && await store.SearchFilteredIterativeAsync(query, k, Math.Max(k, k * perResult), filter, cancellationToken).ConfigureAwait(false) is { } hits)
            {
                Interlocked.Increment(ref _filteredByIndex);
                return hits;
            }
        }

        Interlocked.Increment(ref _filteredExactly);
        return await store.SearchFilteredAsync(query, k, filter, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the server's pgvector has iterative index scans (read once).</summary>
    public async Task<bool> SupportsIterativeScansAsync(CancellationToken cancellationToken = default) =>
        _iterative ??= await store.GetVectorVersionAsync(cancellationToken).ConfigureAwait(false) is { } version && version >= IterativeScansSince;
}
