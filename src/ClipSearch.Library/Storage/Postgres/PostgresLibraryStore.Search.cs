using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Storage.Postgres;

/// <summary>
/// Search by the server: pgvector's HNSW index with a given number of candidates per result
/// (<c>hnsw.ef_search</c>), or an exact scan. How many candidates is the vector index's choice
/// (<c>Search.PgvectorIndex</c>, after its recall check); the store only runs the query.
/// </summary>
public sealed partial class PostgresLibraryStore
{
    /// <summary>pgvector's largest <c>hnsw.ef_search</c>.</summary>
    private const int MaxEfSearch = 1000;

    /// <summary>
    /// The <paramref name="k"/> contents nearest to <paramref name="query"/> (a unit vector) by cosine: through the
    /// HNSW index with <paramref name="candidatesPerResult"/> × k candidates, or exactly (a full scan) when null.
    /// Empty before a model is recorded (nothing indexed).
    /// </summary>
    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, int? candidatesPerResult, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SearchCoreAsync(query, k, candidatesPerResult, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];   // no model recorded yet: nothing indexed
        }
    }

    /// <summary>About <paramref name="count"/> stored embeddings spread over the library (every n-th id), with their content ids.</summary>
    public async Task<IReadOnlyList<(long Id, float[] Vector)>> SampleVectorsAsync(int count, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var contents = (long)(await ScalarAsync(c, "SELECT count(*) FROM clipsearch_contents", cancellationToken).ConfigureAwait(false))!;
        var stride = Math.Max(1, contents / count);
        return await ReadListAsync("SELECT id, embedding FROM clipsearch_contents WHERE id % $1 = 0 ORDER BY id LIMIT $2",
            r => (r.GetInt64(0), r.GetFieldValue<Vector>(1).ToArray()), cancellationToken, stride, count).ConfigureAwait(false);
    }

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
