using System.Diagnostics;
using System.Globalization;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using ClipSearch.Library.Storage.Sqlite;
using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Bench;

/// <summary>
/// Filtered search at k = 10 over clustered synthetic vectors with synthetic metadata (100 folders of 10 subfolders,
/// dates spread over 2015–2024, formats jpeg 70 %, heic 20 %, png 9 %, tiff 1 %), filters of several selectivities:
/// in memory (SQLite store, HNSW graph) and on pgvector. Per filter: the library's own choice, exact only and
/// graph/index forced, each p50/p99 and recall@10 against the exact filtered search. One JSON line per filter and store.
/// </summary>
internal static class FilteredBench
{
    private const int K = 10;
    private static readonly string[] _formats = ["jpeg", "heic", "png", "tiff"];

    public static async Task RunAsync(int rows, int dim, int queryCount, string? connection, string? graphPath, string? only)
    {
        var data = Stats.ClusteredUnitVectors(rows, dim, seed: 1);
        var queries = Stats.ClusteredUnitVectors(queryCount, dim, seed: 2, centresSeed: 1);
        var files = Enumerable.Range(0, rows).Select(Synthetic).ToList();
        var filters = Filters();
        if (only is null or "memory")
        {
            await InMemoryAsync(rows, dim, data, queries, files, filters, graphPath);
        }

        if (!string.IsNullOrEmpty(connection) && only is null or "pgvector")
        {
            await PgvectorAsync(connection, rows, dim, data, queries, files, filters);
        }
    }

    /// <summary>File i: folder /lib/fNN/sM (100 × 10, spread by a hash), a date in 2015–2024, a format.</summary>
    private static (string Path, PhotoMetadata Metadata) Synthetic(int i)
    {
        var folder = (int)(Mix(i, 1) % 1000);
        var seconds = (long)(Mix(i, 2) % (ulong)(10 * 365.25 * 86400));
        var f = (int)(Mix(i, 3) % 100);
        var format = f < 70 ? 0 : f < 90 ? 1 : f < 99 ? 2 : 3;
        var taken = new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Unspecified).AddSeconds(seconds);
        return ($"/lib/f{folder / 10:D2}/s{folder % 10}/{i}.{_formats[format]}",
            new PhotoMetadata(taken, null, TakenAtSource.Exif, 100, 100, ImageFormats.FromName(_formats[format])!.Value, null, null, null, null));
    }

    /// <summary>SplitMix64 of (i, salt): independent, evenly spread attributes.</summary>
    private static ulong Mix(int i, ulong salt)
    {
        var x = ((ulong)i * 0x9E3779B97F4A7C15UL) + (salt * 0xBF58476D1CE4E5B9UL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static List<(string Name, LibraryFilter Filter)> Filters() =>
    [
        ("folder 50%", LibraryFilter.Parse([.. Enumerable.Range(0, 50).Select(i => $"/lib/f{i:D2}")], null, null, null)),
        ("folder 10%", LibraryFilter.Parse([.. Enumerable.Range(0, 10).Select(i => $"/lib/f{i:D2}")], null, null, null)),
        ("folder 1%", LibraryFilter.Parse(["/lib/f07"], null, null, null)),
        ("folder 0.1%", LibraryFilter.Parse(["/lib/f07/s3"], null, null, null)),
        ("date 50%", LibraryFilter.Parse(null, "2015", "2019", null)),
        ("date 10%", LibraryFilter.Parse(null, "2020", "2020", null)),
        ("date 1%", LibraryFilter.Parse(null, "2021-03-01", "2021-04-06", null)),
        ("date 0.1%", LibraryFilter.Parse(null, "2021-03-01", "2021-03-04", null)),
        ("type 20% heic", LibraryFilter.Parse(null, null, null, ["heic"])),
        ("type 1% tiff", LibraryFilter.Parse(null, null, null, ["tiff"])),
        ("folder 50% + date 10%", LibraryFilter.Parse([.. Enumerable.Range(0, 50).Select(i => $"/lib/f{i:D2}")], "2020", "2020", null)),
        ("folder 10% + png", LibraryFilter.Parse([.. Enumerable.Range(0, 10).Select(i => $"/lib/f{i:D2}")], null, null, ["png"])),
    ];

    private static async Task InMemoryAsync(int rows, int dim, float[] data, float[] queries, List<(string Path, PhotoMetadata Metadata)> files,
        List<(string Name, LibraryFilter Filter)> filters, string? graphPath)
    {
        var folder = Directory.CreateTempSubdirectory("clipsearch-filtered-");
        var graph = graphPath ?? Path.Combine(folder.FullName, "library.db.hnsw");   // a graph given is kept for the next run (the same synthetic data)
        try
        {
            var load = Stopwatch.StartNew();
            await using var store = SqliteLibraryStore.Open(Path.Combine(folder.FullName, "library.db"));
            await store.SetModelAsync(new ModelIdentity("bench", "fp32", dim));
            for (var start = 0; start < rows; start += 5000)
            {
                await store.CommitAsync([.. Enumerable.Range(start, Math.Min(5000, rows - start)).Select(i =>
                    new IndexedFile(new ScannedFile(files[i].Path, 1, 1), $"h{i}", data.AsSpan(i * dim, dim).ToArray(), null, files[i].Metadata))]);
            }

            // The recall check trusts the graph only with text queries measured too: a text-like set across the modality gap.
            await RecallTextQueries.SaveAsync(store, new ModelIdentity("bench", "fp32", dim), TextRecallBench.GapTextQueries(50, dim, seed: 3, centresSeed: 1));
            Console.WriteLine($"memory: stored {rows} rows in {load.Elapsed.TotalSeconds:F1} s");
            var build = Stopwatch.StartNew();
            using var library = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswPath = graph });
            await library.RefreshAsync();
            library.SaveHnsw();
            Console.WriteLine($"memory: vectors loaded and HNSW built in {build.Elapsed.TotalSeconds:F1} s, {(library.HnswRecall is { } r ? Stats.Describe(r) : "no graph")}");
            using var exactOnly = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 0 });
            using var graphForced = new InMemoryVectorIndex(store, new VectorIndexOptions { FilteredExactBelow = 0, HnswPath = graph });
            await exactOnly.RefreshAsync();
            await graphForced.RefreshAsync();
            var catalogueLoad = Stopwatch.StartNew();
            await library.SearchAsync(queries.AsSpan(0, dim).ToArray(), K, filters[0].Filter);
            Console.WriteLine($"memory: first filtered search (catalogue of {library.Catalogue?.Files} files loaded) {catalogueLoad.Elapsed.TotalMilliseconds:F0} ms");

            foreach (var (name, filter) in filters)
            {
                var passing = library.Catalogue!.Select(filter).PassingContents().Length;
                var truth = new List<IReadOnlyList<VectorHit>>();
                var exactTimes = await TimeAsync(queries, dim, q => exactOnly.SearchAsync(q, K, filter), truth);
                var (byGraph, exactly) = (library.FilteredByGraph, library.FilteredExactly);
                var found = new List<IReadOnlyList<VectorHit>>();
                var times = await TimeAsync(queries, dim, q => library.SearchAsync(q, K, filter), found);
                var path = $"graph {library.FilteredByGraph - byGraph}, exact {library.FilteredExactly - exactly}";
                (byGraph, exactly) = (graphForced.FilteredByGraph, graphForced.FilteredExactly);
                var forced = new List<IReadOnlyList<VectorHit>>();
                var forcedTimes = await TimeAsync(queries, dim, q => graphForced.SearchAsync(q, K, filter), forced);
                var forcedPath = $"graph {graphForced.FilteredByGraph - byGraph}, exact {graphForced.FilteredExactly - exactly}";
                Console.WriteLine(Json("memory", name, rows, passing, times, Recall(found, truth), path, exactTimes, forcedTimes, Recall(forced, truth), forcedPath));
            }

            // Before: SQL names the passing contents, their rows scanned exactly (what main did).
            foreach (var (name, filter) in filters.Where(f => f.Name is "folder 50%" or "folder 1%"))
            {
                var exact = exactOnly.Exact!;
                var times = await TimeAsync(queries, dim, async q =>
                {
                    var ids = await store.GetContentIdsAsync(filter);
                    return (IReadOnlyList<VectorHit>)[.. exact.SearchAmong(q, K, ids).Select(h => new VectorHit(h.Id, h.Score))];
                }, []);
                Console.WriteLine($"{{\"bench\":\"filtered\",\"store\":\"memory, SQL per query (before)\",\"filter\":\"{name}\",\"rows\":{rows},{Ms("p50", "p99", times)}}}");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static async Task PgvectorAsync(string connection, int rows, int dim, float[] data, float[] queries, List<(string Path, PhotoMetadata Metadata)> files,
        List<(string Name, LibraryFilter Filter)> filters)
    {
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

                await using (var writer = await c.BeginBinaryImportAsync("COPY clipsearch_files (path, size, mtime, content_id, taken_at, format, metadata_version) FROM STDIN (FORMAT BINARY)"))
                {
                    for (var i = 0; i < rows; i++)
                    {
                        await writer.StartRowAsync();
                        await writer.WriteAsync(files[i].Path);
                        await writer.WriteAsync(1L);
                        await writer.WriteAsync(1L);
                        await writer.WriteAsync((long)i + 1);   // contents are numbered from 1 in COPY order
                        await writer.WriteAsync(MetadataColumns.Seconds(files[i].Metadata.TakenAt));
                        await writer.WriteAsync(files[i].Metadata.Format.Name());
                        await writer.WriteAsync(PhotoMetadata.CurrentVersion);
                    }

                    await writer.CompleteAsync();
                }

                var build = Stopwatch.StartNew();
                await using var index = new NpgsqlCommand("SET maintenance_work_mem = '2GB'; CREATE INDEX clipsearch_contents_hnsw ON clipsearch_contents USING hnsw (embedding vector_cosine_ops); ANALYZE", c);
                await index.ExecuteNonQueryAsync();
                Console.WriteLine($"pgvector: {rows} rows, HNSW index built in {build.Elapsed.TotalSeconds:F1} s, pgvector {await store.GetVectorVersionAsync()}");
            }

            using var library = new PgvectorIndex(store);
            var check = Stopwatch.StartNew();
            var recall = await library.CheckRecallAsync();
            Console.WriteLine($"pgvector: recall check ({check.Elapsed.TotalSeconds:F1} s): {Stats.Describe(recall)}");
            using var exactOnly = new PgvectorIndex(store) { CandidatesOverride = 0 };
            using var indexForced = new PgvectorIndex(store, new VectorIndexOptions { FilteredExactBelow = 0 });
            var plan = await store.ExplainFilteredIterativeAsync(queries.AsSpan(0, dim).ToArray(), 100, filters[1].Filter);
            Console.WriteLine("pgvector: plan of the iterative scan (folder 10%):\n" + System.Text.RegularExpressions.Regex.Replace(plan, @"'\[[^\]]*\]'", "'[query]'"));
            var pgQueries = Math.Min(queries.Length / dim, 60);
            var some = queries.AsSpan(0, pgQueries * dim).ToArray();
            foreach (var (name, filter) in filters)
            {
                var passing = await store.CountPassingAsync(filter, long.MaxValue);
                var truth = new List<IReadOnlyList<VectorHit>>();
                var exactTimes = await TimeAsync(some, dim, q => exactOnly.SearchAsync(q, K, filter), truth);
                var (byIndex, exactly) = (library.FilteredByIndex, library.FilteredExactly);
                var found = new List<IReadOnlyList<VectorHit>>();
                var times = await TimeAsync(some, dim, q => library.SearchAsync(q, K, filter), found);
                var path = $"index {library.FilteredByIndex - byIndex}, exact {library.FilteredExactly - exactly}";
                (byIndex, exactly) = (indexForced.FilteredByIndex, indexForced.FilteredExactly);
                var forced = new List<IReadOnlyList<VectorHit>>();
                var forcedTimes = await TimeAsync(some, dim, q => indexForced.SearchAsync(q, K, filter), forced);
                var forcedPath = $"index {indexForced.FilteredByIndex - byIndex}, exact {indexForced.FilteredExactly - exactly}";
                Console.WriteLine(Json("pgvector", name, rows, passing, times, Recall(found, truth), path, exactTimes, forcedTimes, Recall(forced, truth), forcedPath));
            }
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

    private static async Task<List<double>> TimeAsync(float[] queries, int dim, Func<float[], Task<IReadOnlyList<VectorHit>>> search, List<IReadOnlyList<VectorHit>> results)
    {
        var times = new List<double>();
        for (var q = 0; q < queries.Length / dim; q++)
        {
            var query = queries.AsSpan(q * dim, dim).ToArray();
            var clock = Stopwatch.StartNew();
            var hits = await search(query);
            times.Add(clock.Elapsed.TotalMilliseconds);
            results.Add(hits);
        }

        return times;
    }

    /// <summary>recall@10 of <paramref name="found"/> against <paramref name="truth"/> (1 where the filter passes fewer than 10 and all are found).</summary>
    private static double Recall(List<IReadOnlyList<VectorHit>> found, List<IReadOnlyList<VectorHit>> truth)
    {
        var (hit, all) = (0, 0);
        for (var i = 0; i < truth.Count; i++)
        {
            var expected = truth[i].Select(h => h.ContentId).ToHashSet();
            hit += found[i].Count(h => expected.Contains(h.ContentId));
            all += expected.Count;
        }

        return all == 0 ? 1 : (double)hit / all;
    }

    private static string Ms(string p50, string p99, List<double> ms)
    {
        var warm = ms.Count > 2 * Stats.WarmUp ? ms.Skip(Stats.WarmUp).Order().ToList() : [.. ms.Order()];
        double P(double q) => warm[Math.Min(warm.Count - 1, (int)(q * warm.Count))];
        return string.Create(CultureInfo.InvariantCulture, $"\"{p50}\":{P(0.50):F2},\"{p99}\":{P(0.99):F2}");
    }

    private static string Json(string store, string name, int rows, long passing, List<double> times, double recall, string path,
        List<double> exactTimes, List<double> forcedTimes, double forcedRecall, string forcedPath) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"filtered\",\"store\":\"{store}\",\"filter\":\"{name}\",\"rows\":{rows},\"passing\":{passing},\"queries\":{times.Count},{Ms("p50_ms", "p99_ms", times)},\"recall\":{recall:F4},\"path\":\"{path}\",{Ms("exact_p50_ms", "exact_p99_ms", exactTimes)},{Ms("forced_p50_ms", "forced_p99_ms", forcedTimes)},\"forced_recall\":{forcedRecall:F4},\"forced_path\":\"{forcedPath}\"}}");
}
