using System.Diagnostics;
using ClipSearch.Library.Search;
using Cloud.Unum.USearch;

namespace ClipSearch.Library.Bench;

/// <summary>HNSW settings compared on one data set: build rate, latency and recall@10 per candidate count.</summary>
internal static class HnswTuneBench
{
    public static void Run(int rows, int dim, int queryCount, bool clustered)
    {
        var data = clustered ? Stats.ClusteredUnitVectors(rows, dim, seed: 1) : Stats.RandomUnitVectors(rows, dim, seed: 1);
        var ids = Stats.Ids(rows);
        var queries = clustered ? Stats.ClusteredUnitVectors(queryCount, dim, seed: 2, centresSeed: 1) : Stats.RandomUnitVectors(queryCount, dim, seed: 2);
        var exact = new ExactIndex(dim);
        exact.Add(ids, data);
        var truth = Enumerable.Range(0, queryCount).Select(q => exact.Search(queries.AsSpan(q * dim, dim), 10).Select(h => h.Id).ToHashSet()).ToList();
        Console.WriteLine($"{(clustered ? "clustered" : "uniform random")} unit vectors: {rows} x {dim}");
        foreach (var (kind, m) in new[] { (ScalarKind.Float32, 16), (ScalarKind.Float16, 16), (ScalarKind.Int8, 16), (ScalarKind.Int8, 32) })
        {
            var build = Stopwatch.StartNew();
            using var hnsw = HnswIndex.Create(dim, "tune", 0, kind, m);
            hnsw.Add(ids, data);
            Console.WriteLine($"  {kind} M={m}: build {rows / build.Elapsed.TotalSeconds:F0} vectors/s");
            foreach (var perResult in new[] { 6, 25, 100 })
            {
                var times = new List<double>();
                var found = 0;
                for (var q = 0; q < queryCount; q++)
                {
                    var query = queries.AsSpan(q * dim, dim).ToArray();
                    var clock = Stopwatch.StartNew();
                    var hits = InMemoryVectorIndex.Rerank(exact, hnsw, query, 10, perResult);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    found += hits.Count(h => truth[q].Contains(h.ContentId));
                }

                Console.WriteLine($"    {10 * perResult} candidates: {Stats.Latency(times)}, recall@10 {found / (10.0 * queryCount):F3}");
            }
        }
    }
}
