using System.Text.Json;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;

namespace ClipSearch.Library.Search;

/// <summary>
/// A PostgreSQL library's vectors searched by the server: pgvector's HNSW index with as many candidates as the
/// last recall check found necessary for the minimum recall (<c>hnsw.ef_search</c>), or an exact scan where no
/// setting gets there. The check's result is kept in the database, so every process that opens it uses it.
/// </summary>
public sealed partial class PgvectorIndex(PostgresLibraryStore store, VectorIndexOptions? options = null) : IVectorIndex, IApproximateSearch
{
    /// <summary>Before any recall check: ef_search 100 at k = 10.</summary>
    public const int DefaultCandidatesPerResult = 10;

    private const string RecallSetting = "search_recall";
    private readonly VectorIndexOptions _options = options ?? new VectorIndexOptions();
    private HnswRecall? _recall;

    /// <summary>Candidates per result tried by the recall check: ef_search 40, 100, 400, 1,000 at k = 10.</summary>
    public IReadOnlyList<int> CandidateSteps { get; } = [4, 10, 40, 100];

    /// <summary>
    /// Fixes the candidates per result (ef_search = this × k; 0: an exact scan), bypassing the recall check.
    /// For benchmarks comparing settings; null (the default) follows the check.
    /// </summary>
    public int? CandidatesOverride { get; set; }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, CancellationToken cancellationToken = default)
    {
        var recall = await GetRecallAsync(cancellationToken).ConfigureAwait(false);
        var perResult = CandidatesOverride ?? recall switch
        {
            null => DefaultCandidatesPerResult,
            { Usable: true } => recall.CandidatesPerResult,
            _ => 0,
        };
        return await store.SearchAsync(query, k, perResult > 0 ? perResult : null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>The server keeps its index up to date itself.</remarks>
    public Task RefreshAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc/>
    /// <remarks>
    /// The recall is measured again when the library has grown or shrunk by a quarter, or when it was measured
    /// without text queries that the library now has.
    /// </remarks>
    public async Task UpdateAfterIndexingAsync(long contents, CancellationToken cancellationToken = default)
    {
        _recall = null;   // read again: a re-embed (or another machine) may have dropped or measured it since
        var texts = await RecallTextQueries.LoadAsync(store, cancellationToken).ConfigureAwait(false) is not null;
        if (HnswRecallCheck.IsDue(await GetRecallAsync(cancellationToken).ConfigureAwait(false), contents, texts))
        {
            await CheckRecallAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task<SearchMethod> DescribeAsync(CancellationToken cancellationToken = default) =>
        (await GetRecallAsync(cancellationToken).ConfigureAwait(false) is { } recall
            ? SearchMethod.Measured(SearchMethodKind.Pgvector, recall)
            : new SearchMethod(SearchMethodKind.Pgvector) { Candidates = DefaultCandidatesPerResult * HnswRecallCheck.K })
        with { IterativeScans = await SupportsIterativeScansAsync(cancellationToken).ConfigureAwait(false) };

    /// <inheritdoc/>
    /// <remarks>The vectors are loaded into a temporary in-memory index (with a graph above its size threshold), freed once <paramref name="scan"/> returns.</remarks>
    public async Task<T> ScanInMemoryAsync<T>(Func<InMemoryVectorIndex, T> scan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scan);
        using var memory = new InMemoryVectorIndex(store, _options with { HnswPath = null });
        return await memory.ScanInMemoryAsync(scan, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the last <see cref="CheckRecallAsync"/> found (in this process or another), or null before the first.</summary>
    public async Task<HnswRecall?> GetRecallAsync(CancellationToken cancellationToken = default)
    {
        if (_recall is null && await store.GetSettingAsync(RecallSetting, cancellationToken).ConfigureAwait(false) is { } json)
        {
            _recall = JsonSerializer.Deserialize<HnswRecall>(json);
        }

        return _recall;
    }

    /// <summary>
    /// Measures the index's recall@10 against exact search with the library's own vectors and its text queries
    /// (<see cref="HnswRecallCheck"/>, <see cref="RecallTextQueries"/>), records the fewest candidates that reach the
    /// minimum recall for both (or exact search when none does, or when there are no text queries), and returns it.
    /// </summary>
    public async Task<HnswRecall> CheckRecallAsync(CancellationToken cancellationToken = default)
    {
        var texts = await RecallTextQueries.LoadAsync(store, cancellationToken).ConfigureAwait(false);
        var recall = await HnswRecallCheck.MeasureAsync(this, _options.MinimumRecall, texts, cancellationToken).ConfigureAwait(false);
        await store.SetSettingAsync(RecallSetting, JsonSerializer.Serialize(recall), cancellationToken).ConfigureAwait(false);
        _recall = recall;
        return recall;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // The store, which the library owns, holds the connections.
    }

    async Task<long> IApproximateSearch.CountAsync(CancellationToken cancellationToken) =>
        (await store.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Contents;

    Task<IReadOnlyList<(long Id, float[] Vector)>> IApproximateSearch.SampleAsync(int count, CancellationToken cancellationToken) =>
        store.SampleVectorsAsync(count, cancellationToken);

    async Task<IReadOnlyList<long>> IApproximateSearch.SearchExactAsync(float[] query, int k, CancellationToken cancellationToken) =>
        Ids(await store.SearchAsync(query, k, null, cancellationToken).ConfigureAwait(false));

    async Task<IReadOnlyList<long>> IApproximateSearch.SearchApproximateAsync(float[] query, int k, int candidatesPerResult, CancellationToken cancellationToken) =>
        Ids(await store.SearchAsync(query, k, candidatesPerResult, cancellationToken).ConfigureAwait(false));

    private static IReadOnlyList<long> Ids(IReadOnlyList<VectorHit> hits) => [.. hits.Select(h => h.ContentId)];
}
