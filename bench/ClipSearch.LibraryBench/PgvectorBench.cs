using System.Diagnostics;
using ClipSearch.Core.Model;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage.Postgres;
using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Bench;

/// <summary>pgvector: bulk load (COPY), HNSW build, then k=10 latency through the store, recall vs exact.</summary>
internal static class PgvectorBench
{
    public static async Task RunAsync(string connection, int rows, int dim, int queryCount, bool clustered, IReadOnlyList<int> efSearch)
    {
        var data = clustered ? Stats.ClusteredUnitVectors(rows, dim, seed: 1) : Stats.RandomUnitVectors(rows, dim, seed: 1);
        Console.WriteLine(clustered ? "clustered unit vectors (1000 centres)" : "uniform random unit vectors");
        await WithLibraryAsync(connection, data, rows, dim, async store =>
        {
            using var vectors = new PgvectorIndex(store);
            var exact = new ExactIndex(dim);
            var stored = await store.LoadVectorsAsync(0);
            exact.Add(stored.Ids, stored.Vectors);
            var queries = clustered ? Stats.ClusteredUnitVectors(queryCount, dim, seed: 2, centresSeed: 1) : Stats.RandomUnitVectors(queryCount, dim, seed: 2);
            foreach (var ef in efSearch)
            {
                vectors.CandidatesOverride = ef / 10;   // ef_search = candidates per result × k; 0: exact scan
                var times = new List<double>();
                var found = 0;
                for (var q = 0; q < queryCount; q++)
                {
                    var query = queries.AsSpan(q * dim, dim).ToArray();
                    var clock = Stopwatch.StartNew();
                    var hits = await vectors.SearchAsync(query, 10);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    var truth = exact.Search(query, 10).Select(h => h.Id).ToHashSet();
                    found += hits.Count(h => truth.Contains(h.ContentId));
                }

                Console.WriteLine($"pgvector {(ef == 0 ? "exact scan" : $"hnsw ef_search={ef}")}, k=10, {rows} rows: {Stats.Latency(times)}, recall@10 {found / (10.0 * queryCount):F4}");
            }

            var check = Stopwatch.StartNew();
            vectors.CandidatesOverride = null;
            var recall = await vectors.CheckRecallAsync();
            Console.WriteLine($"recall check ({check.Elapsed.TotalSeconds:F1} s): {Stats.Describe(recall)}");

            var size = (await store.GetStatsAsync()).StorageBytes;
            Console.WriteLine($"pgvector: {size / (double)rows:F0} bytes/image on disk (tables + indexes)");
        });
    }

    /// <summary>
    /// A PostgreSQL library in a schema of its own holding <paramref name="data"/> (bulk-loaded with COPY, then
    /// the HNSW index built), given to <paramref name="body"/>, then dropped.
    /// </summary>
    public static async Task WithLibraryAsync(string connection, float[] data, int rows, int dim, Func<PostgresLibraryStore, Task> body)
    {
        if (string.IsNullOrEmpty(connection))
        {
            Console.Error.WriteLine("pgvector: give --connection \"Host=…;Database=…\" (or set CLIPSEARCH_TEST_POSTGRES)");
            return;
        }

        var schema = $"bench_{Environment.ProcessId}";
        await using (var c = new NpgsqlConnection(connection))
        {
            await c.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", c);
            await create.ExecuteNonQueryAsync();
        }

        var location = new NpgsqlConnectionStringBuilder(connection) { SearchPath = $"{schema},public", CommandTimeout = 0 }.ConnectionString;
        try
        {
            await using var store = await PostgresLibraryStore.OpenAsync(location);
            await store.SetModelAsync(new ModelIdentity("bench", "fp32", dim));
            var sourceBuilder = new NpgsqlDataSourceBuilder(location);
            sourceBuilder.UseVector();
            await using var source = sourceBuilder.Build();
            await using (var c = await source.OpenConnectionAsync())
            {
                await using (var drop = new NpgsqlCommand("DROP INDEX clipsearch_contents_hnsw", c))
                {
                    await drop.ExecuteNonQueryAsync();
                }

                var load = Stopwatch.StartNew();
                await using (var writer = await c.BeginBinaryImportAsync("COPY clipsearch_contents (hash, embedding) FROM STDIN (FORMAT BINARY)"))
                {
                    for (var i = 0; i < rows; i++)
                    {
                        await writer.StartRowAsync();
                        await writer.WriteAsync($"h{i}");
                        await writer.WriteAsync(new Vector(data.AsMemory(i * dim, dim)));
                    }

                    await writer.CompleteAsync();
                }

                await using (var files = new NpgsqlCommand("INSERT INTO clipsearch_files(path, size, mtime, content_id) SELECT '/p/' || id, 1, 1, id FROM clipsearch_contents", c))
                {
                    await files.ExecuteNonQueryAsync();
                }

                Console.WriteLine($"pgvector: loaded {rows} rows in {load.Elapsed.TotalSeconds:F1} s");
                var build = Stopwatch.StartNew();
                await using var index = new NpgsqlCommand("SET maintenance_work_mem = '2GB'; CREATE INDEX clipsearch_contents_hnsw ON clipsearch_contents USING hnsw (embedding vector_cosine_ops)", c);
                await index.ExecuteNonQueryAsync();
                Console.WriteLine($"pgvector: HNSW index built in {build.Elapsed.TotalSeconds:F1} s");
            }

            await body(store);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var c = new NpgsqlConnection(connection);
            await c.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA {schema} CASCADE", c);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
