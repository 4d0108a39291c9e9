using System.Text.Json;
using ClipSearch.Library.Search;
using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Storage.Postgres;

/// <summary>
/// Search by the server: pgvector's HNSW index with as many candidates as the last recall check found
/// necessary for recall@10 ≥ 0.95 (<c>hnsw.ef_search</c>), or an exact scan where no setting gets there.
/// </summary>
public sealed partial class PostgresLibraryStore
{
    /// <summary>Candidates per result tried by <see cref="CheckRecallAsync"/>: ef_search 40, 100, 400, 1,000 at k = 10.</summary>
    public static IReadOnlyList<int> CandidateSteps { get; } = [4, 10, 40, 100];

    /// <summary>Before any recall check: ef_search 100 at k = 10.</summary>
    public const int DefaultCandidatesPerResult = 10;

    /// <summary>pgvector's largest <c>hnsw.ef_search</c>.</summary>
    private const int MaxEfSearch = 1000;

    private const string RecallSetting = "search_recall";
    private HnswRecall? _recall;

    /// <summary>
    /// Fixes the candidates per result (ef_search = this × k; 0: an exact scan), bypassing the recall check.
    /// For benchmarks comparing settings; null (the default) follows the check.
    /// </summary>
    public int? CandidatesOverride { get; set; }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, CancellationToken cancellationToken = default)
    {
        try
        {
            var recall = await GetRecallAsync(cancellationToken).ConfigureAwait(false);
            var perResult = CandidatesOverride ?? recall switch
            {
                null => DefaultCandidatesPerResult,
                { Usable: true } => recall.CandidatesPerResult,
                _ => 0,
            };
            return await SearchCoreAsync(query, k, perResult > 0 ? perResult : null, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];   // no model recorded yet: nothing indexed
        }
    }

    /// <inheritdoc/>
    public async Task<HnswRecall?> GetRecallAsync(CancellationToken cancellationToken = default)
    {
        if (_recall is null && await GetSettingAsync(RecallSetting, cancellationToken).ConfigureAwait(false) is { } json)
        {
            _recall = JsonSerializer.Deserialize<HnswRecall>(json);
        }

        return _recall;
    }

    /// <inheritdoc/>
    public async Task<HnswRecall> CheckRecallAsync(double minimumRecall, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var count = (long)(await ScalarAsync(c, "SELECT count(*) FROM clipsearch_contents", cancellationToken).ConfigureAwait(false))!;
        var stride = Math.Max(1, count / HnswRecallCheck.Samples);
        var samples = await ReadListAsync("SELECT id, embedding FROM clipsearch_contents WHERE id % $1 = 0 ORDER BY id LIMIT $2",
            r => (r.GetInt64(0), r.GetFieldValue<Vector>(1).ToArray()), cancellationToken, stride, HnswRecallCheck.Samples).ConfigureAwait(false);
        var recall = await HnswRecallCheck.MeasureAsync(samples, CandidateSteps, count, minimumRecall,
            async (query, k, ct) => Ids(await SearchCoreAsync(query, k, null, ct).ConfigureAwait(false)),
            async (query, k, perResult, ct) => Ids(await SearchCoreAsync(query, k, perResult, ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
        await SetSettingAsync(RecallSetting, JsonSerializer.Serialize(recall), cancellationToken).ConfigureAwait(false);
        _recall = recall;
        return recall;

        static IReadOnlyList<long> Ids(IReadOnlyList<VectorHit> hits) => [.. hits.Select(h => h.ContentId)];
    }

    /// <summary>Through the HNSW index with <paramref name="perResult"/> × k candidates, or exactly (a full scan) when null.</summary>
    private async Task<IReadOnlyList<VectorHit>> SearchCoreAsync(float[] query, int k, int? perResult, CancellationToken cancellationToken)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Exact: the negative inner product (<#>) orders unit vectors as the cosine does, and no cosine index can
        // serve it, so the server scans every row whatever the planner thinks.
        var sql = "SELECT id, -(embedding <#> $1) FROM clipsearch_contents ORDER BY embedding <#> $1 LIMIT $2";
        if (perResult is { } p)
        {
            await ExecAsync(c, $"SET LOCAL hnsw.ef_search = {Math.Min(MaxEfSearch, Math.Max(k, p * k))}", cancellationToken).ConfigureAwait(false);
            sql = "SELECT id, 1 - (embedding <=> $1) FROM clipsearch_contents ORDER BY embedding <=> $1 LIMIT $2";
        }

        await using var command = new NpgsqlCommand(sql, c);
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(query) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        var hits = new List<VectorHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hits.Add(new VectorHit(reader.GetInt64(0), (float)reader.GetDouble(1)));
        }

        return hits;
    }
}
