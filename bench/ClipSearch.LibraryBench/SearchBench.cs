using System.Diagnostics;
using ClipSearch.Library.Search;

namespace ClipSearch.Library.Bench;

/// <summary>Exact (fp32, fp16) and HNSW + exact re-ranking over random unit vectors.</summary>
internal static class SearchBench
{
    public static void Run(int rows, int dim, int queryCount, bool clustered, bool hnswToo = true, string? graphPath = null, int[]? perResults = null)
    {
        var data = clustered ? Stats.ClusteredUnitVectors(rows, dim, seed: 1) : Stats.RandomUnitVectors(rows, dim, seed: 1);
        var ids = Stats.Ids(rows);
        var queries = clustered ? Stats.ClusteredUnitVectors(queryCount, dim, seed: 2, centresSeed: 1) : Stats.RandomUnitVectors(queryCount, dim, seed: 2);
        Console.WriteLine(clustered ? "clustered unit vectors (1000 centres)" : "uniform random unit vectors");
        float[] Query(int q) => queries.AsSpan(q * dim, dim).ToArray();

        var exact = new ExactIndex(dim);
        exact.Add(ids, data);
        Console.WriteLine($"rows {rows}, dim {dim}; exact fp32 memory {exact.MemoryBytes / (double)rows:F0} bytes/image");
        var truth = new List<HashSet<long>>();
        var times = new List<double>();
        for (var q = 0; q < queryCount; q++)
        {
            var clock = Stopwatch.StartNew();
            var hits = exact.Search(Query(q), 10);
            times.Add(clock.Elapsed.TotalMilliseconds);
            truth.Add([.. hits.Select(h => h.Id)]);
        }

        Console.WriteLine($"exact fp32 k=10: {Stats.Latency(times)}");

        var half = new ExactIndex(dim, halfPrecision: true);
        half.Add(ids, data);
        times.Clear();
        var halfFound = 0;
        for (var q = 0; q < queryCount; q++)
        {
            var clock = Stopwatch.StartNew();
            var hits = half.Search(Query(q), 10);
            times.Add(clock.Elapsed.TotalMilliseconds);
            halfFound += hits.Count(h => truth[q].Contains(h.Id));
        }

        Console.WriteLine($"exact fp16 k=10: {Stats.Latency(times)}, recall@10 vs fp32 {halfFound / (10.0 * queryCount):F4}, memory {half.MemoryBytes / (double)rows:F0} bytes/image");
        half = null;
        GC.Collect();
        if (!hnswToo)
        {
            return;
        }

        using var hnsw = LoadOrBuildGraph(ids, data, dim, graphPath);
        foreach (var perResult in perResults ?? [10, 30, 100])
        {
            times.Clear();
            var found = 0;
            for (var q = 0; q < queryCount; q++)
            {
                var query = Query(q);
                var clock = Stopwatch.StartNew();
                var hits = InMemoryVectorIndex.Rerank(exact, hnsw, query, 10, perResult);
                times.Add(clock.Elapsed.TotalMilliseconds);
                found += hits.Count(h => truth[q].Contains(h.ContentId));
            }

            Console.WriteLine($"hnsw + exact re-rank, {Math.Max(10 * perResult, HnswIndex.ExpansionSearch)} candidates, k=10: {Stats.Latency(times)}, recall@10 {found / (10.0 * queryCount):F4}");
        }

        var check = Stopwatch.StartNew();
        var recall = HnswRecallCheck.Measure(exact, hnsw, new VectorIndexOptions().MinimumRecall);
        Console.WriteLine($"recall check ({check.Elapsed.TotalSeconds:F1} s): {Stats.Describe(recall)}");
    }

    /// <summary>
    /// The graph saved at <paramref name="graphPath"/> when it holds these rows (a 1M uniform graph takes many
    /// minutes to build), else built here in chunks with progress, its memory and file size reported.
    /// </summary>
    private static HnswIndex LoadOrBuildGraph(long[] ids, float[] data, int dim, string? graphPath)
    {
        var rows = ids.Length;
        var key = $"bench-{rows}-{data[0]:R}";
        if (graphPath is not null && HnswIndex.TryLoad(graphPath, key, 0, dim) is { } saved)
        {
            Console.WriteLine($"hnsw graph loaded from {graphPath} ({saved.Coverage.Count} vectors)");
            return saved;
        }

        var before = Process.GetCurrentProcess().WorkingSet64;
        var build = Stopwatch.StartNew();
        var hnsw = HnswIndex.Create(dim, key, 0);
        const int Chunk = 100_000;
        for (var start = 0; start < rows; start += Chunk)
        {
            var n = Math.Min(Chunk, rows - start);
            hnsw.Add(ids.AsSpan(start, n), data.AsSpan(start * dim, n * dim));
            Console.WriteLine($"  hnsw build: {start + n} vectors, {build.Elapsed.TotalSeconds:F0} s, {(start + n) / build.Elapsed.TotalSeconds:F0} vectors/s");
        }

        var buildSeconds = build.Elapsed.TotalSeconds;
        var hnswBytes = Process.GetCurrentProcess().WorkingSet64 - before;
        var file = graphPath ?? Path.Combine(Path.GetTempPath(), $"bench-{Environment.ProcessId}.hnsw");
        hnsw.Save(file);
        var fileBytes = new FileInfo(file).Length;
        if (graphPath is null)
        {
            File.Delete(file);
            File.Delete(file + ".json");
        }

        Console.WriteLine($"hnsw build {buildSeconds:F1} s ({rows / buildSeconds:F0} vectors/s), memory ≈ {hnswBytes / (double)rows:F0} bytes/image (working set), file {fileBytes / (double)rows:F0} bytes/image");
        return hnsw;
    }
}
