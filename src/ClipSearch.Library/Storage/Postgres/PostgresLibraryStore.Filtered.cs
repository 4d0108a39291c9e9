using System.Globalization;
using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Storage.Postgres;

/// <summary>
/// Filtered search through pgvector's HNSW index with iterative index scans (pgvector 0.8 on): the index is scanned
/// on past <c>hnsw.ef_search</c> until enough rows that pass the filter were found (or <c>hnsw.max_scan_tuples</c>
/// visited), and those candidates are re-ranked exactly. Which search a filter gets is the vector index's choice
/// (<c>Search.PgvectorIndex</c>); the exact scan is <see cref="SearchFilteredAsync"/>.
/// </summary>
public sealed partial class PostgresLibraryStore
{
    /// <summary>The most index tuples one iterative scan visits (pgvector's default): beyond it the search is exact.</summary>
    public const int MaxScanTuples = 20_000;

    /// <summary>The installed pgvector's version (<c>pg_extension.extversion</c>), or null when it cannot be read.</summary>
    public async Task<Version?> GetVectorVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var text = await ScalarAsync(c, "SELECT extversion FROM pg_extension WHERE extname = 'vector'", cancellationToken).ConfigureAwait(false) as string;
        return Version.TryParse(text?.Split('-')[0], out var version) ? version : null;
    }

    /// <summary>How many indexed images pass <paramref name="filter"/>, counting no further than <paramref name="upTo"/> (a bounded scan).</summary>
    public async Task<long> CountPassingAsync(LibraryFilter filter, long upTo, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: true);
        try
        {
            var rows = await ReadNamedAsync(
                $"SELECT count(*) FROM (SELECT 1 FROM clipsearch_files f WHERE f.content_id IS NOT NULL AND {where} LIMIT @upto) s",
                r => r.GetInt64(0), [.. parameters, ("@upto", upTo)], cancellationToken).ConfigureAwait(false);
            return rows[0];
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>
    /// The <paramref name="k"/> contents nearest to <paramref name="query"/> among those with an image that passes
    /// <paramref name="filter"/>, from the <paramref name="candidates"/> nearest passing ones that the HNSW index finds
    /// with a relaxed-order iterative scan (<c>hnsw.ef_search</c> = <paramref name="candidates"/>, at most 1,000), scored
    /// exactly; null when the scan stopped at <see cref="MaxScanTuples"/> with fewer candidates (the caller scans
    /// exactly: the filter lets too few through for the index).
    /// </summary>
    public async Task<IReadOnlyList<VectorHit>?> SearchFilteredIterativeAsync(float[] query, int k, int candidates, LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: true);
        try
        {
            await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await ExecAsync(c, IterativeSettings(Math.Max(k, candidates)), cancellationToken).ConfigureAwait(false);
            // The candidates come in the index's (relaxed) order; the outer query orders them exactly, by the inner product.
            await using var command = new NpgsqlCommand($"""
                WITH candidates AS MATERIALIZED (
                    SELECT c.id, c.embedding FROM clipsearch_contents c
                    WHERE EXISTS (SELECT 1 FROM clipsearch_files f WHERE f.content_id = c.id AND {where})
                    ORDER BY c.embedding <=> @query LIMIT @n)
                SELECT id, -(embedding <#> @query), count(*) OVER () FROM candidates ORDER BY embedding <#> @query, id LIMIT @k
                """, c);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter(name.TrimStart('@'), value));
            }

            command.Parameters.Add(new NpgsqlParameter("query", new Vector(query)));
            command.Parameters.Add(new NpgsqlParameter("n", candidates));
            command.Parameters.Add(new NpgsqlParameter("k", k));
            var hits = new List<VectorHit>();
            long found = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    hits.Add(new VectorHit(reader.GetInt64(0), (float)reader.GetDouble(1)));
                    found = reader.GetInt64(2);
                }
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return found < candidates ? null : hits;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];   // no model recorded yet: nothing indexed
        }
    }

    /// <summary>
    /// The settings of an iterative scan for <paramref name="candidates"/> rows. The planner is kept from scanning
    /// and sorting the table (which it prefers for small tables or filters it misjudges): the rows come from the HNSW
    /// index in distance order, each checked against the filter through the files' content index, until enough pass.
    /// The plan that results carries those settings' penalty in its cost, which would make the server compile it
    /// (JIT, over a second) for a query of milliseconds: JIT is off too.
    /// </summary>
    private static string IterativeSettings(int candidates) => string.Create(CultureInfo.InvariantCulture, $"""
        SET LOCAL hnsw.ef_search = {Math.Min(MaxEfSearch, candidates)}; SET LOCAL hnsw.iterative_scan = relaxed_order;
        SET LOCAL hnsw.max_scan_tuples = {MaxScanTuples}; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off
        """);

    /// <summary>The query plan of <see cref="SearchFilteredIterativeAsync"/>'s inner scan, for benchmarks (the index must serve it).</summary>
    public async Task<string> ExplainFilteredIterativeAsync(float[] query, int candidates, LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: true);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, IterativeSettings(candidates), cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"""
            EXPLAIN SELECT c.id, c.embedding FROM clipsearch_contents c
            WHERE EXISTS (SELECT 1 FROM clipsearch_files f WHERE f.content_id = c.id AND {where})
            ORDER BY c.embedding <=> @query LIMIT @n
            """, c);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name.TrimStart('@'), value));
        }

        command.Parameters.Add(new NpgsqlParameter("query", new Vector(query)));
        command.Parameters.Add(new NpgsqlParameter("n", candidates));
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
