using ClipSearch.Library.Bench;

// Library benchmarks (numbers in bench/README.md):
//   search   [--rows N] [--dim 512] [--queries 200] [--clustered] [--no-hnsw] [--graph FILE] [--candidates 100,300,1000]
//                                                           exact fp32/fp16 and HNSW latency p50/p99 at k=10, recall@10, bytes/image
//   disk     [--rows N]                                     bytes per image in a SQLite library
//   pgvector --connection CONNSTRING [--rows N] [--clustered] [--ef 40,100,0]   pgvector HNSW (0: exact scan) latency p50/p99 at k=10, recall@10, recall check
//   text-recall [--rows N] [--store memory|pgvector] [--connection CONNSTRING]   image and text recall@10 across a modality gap, by candidates; the recall check
//   text-recall-tiny [--rows 20000] [--model DIR]          the same on the tiny model's embeddings of synthetic images and prompts
//   filtered [--rows N] [--queries 200] [--connection CONNSTRING] [--graph FILE] [--only memory|pgvector]   filtered search by selectivity: in memory (and pgvector), p50/p99, recall@10 vs exact
//   indexing --model DIR --corpus DIR                      plain embedding rate vs indexing rate; store and hashing time
//   unchanged --model DIR [--files 10000]                  re-run over an unchanged folder
//   duplicates [--rows N]                                  FindDuplicatesAsync on a SQLite library of N random embeddings
var mode = args.FirstOrDefault() ?? "search";
string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
var rows = int.Parse(Arg("--rows", "100000"), System.Globalization.CultureInfo.InvariantCulture);
var dim = int.Parse(Arg("--dim", "512"), System.Globalization.CultureInfo.InvariantCulture);
var queries = int.Parse(Arg("--queries", "200"), System.Globalization.CultureInfo.InvariantCulture);
Console.WriteLine($"# {mode}: {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");
switch (mode)
{
    case "search":
        SearchBench.Run(rows, dim, queries, clustered: args.Contains("--clustered"), hnswToo: !args.Contains("--no-hnsw"),
            graphPath: args.Contains("--graph") ? Arg("--graph", "") : null,
            perResults: args.Contains("--candidates") ? [.. Arg("--candidates", "").Split(',').Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) / 10)] : null);
        break;
    case "hnsw-tune":
        HnswTuneBench.Run(rows, dim, queries, clustered: args.Contains("--clustered"));
        break;
    case "unchanged":
        await UnchangedBench.RunAsync(Arg("--model", "../shared/fixtures/tiny-clip"), int.Parse(Arg("--files", "10000"), System.Globalization.CultureInfo.InvariantCulture));
        break;
    case "disk":
        await DiskBench.RunAsync(rows, dim);
        break;
    case "duplicates":
        await DuplicatesBench.RunAsync(rows, dim);
        break;
    case "pgvector":
        await PgvectorBench.RunAsync(Arg("--connection", Environment.GetEnvironmentVariable("CLIPSEARCH_TEST_POSTGRES") ?? ""), rows, dim, queries,
            clustered: args.Contains("--clustered"), efSearch: [.. Arg("--ef", "40,100").Split(',').Select(e => int.Parse(e, System.Globalization.CultureInfo.InvariantCulture))]);
        break;
    case "text-recall":
        await TextRecallBench.RunAsync(rows, dim, queries, Arg("--store", "memory"), Arg("--connection", Environment.GetEnvironmentVariable("CLIPSEARCH_TEST_POSTGRES") ?? ""));
        break;
    case "text-recall-tiny":
        TextRecallBench.RunTiny(Arg("--model", "../shared/fixtures/tiny-clip"), int.Parse(Arg("--rows", "20000"), System.Globalization.CultureInfo.InvariantCulture), queries);
        break;
    case "filtered":
        await FilteredBench.RunAsync(rows, dim, queries, args.Contains("--connection") ? Arg("--connection", "") : Environment.GetEnvironmentVariable("CLIPSEARCH_TEST_POSTGRES"),
            args.Contains("--graph") ? Arg("--graph", "") : null, args.Contains("--only") ? Arg("--only", "") : null);
        break;
    case "indexing":
        await IndexingBench.RunAsync(Arg("--model", "/work/benchdata/vitb32"), Arg("--corpus", "/work/benchdata/corpus"));
        break;
    default:
        Console.Error.WriteLine($"unknown mode {mode}: search | hnsw-tune | disk | pgvector | filtered | text-recall | text-recall-tiny | duplicates | unchanged | indexing");
        return 2;
}

return 0;

namespace ClipSearch.Library.Bench
{
    internal static class Stats
    {
        /// <summary>What a recall check found, in one line.</summary>
        public static string Describe(Search.HnswRecall recall) => recall.Usable
            ? $"recall@10 {recall.Recall:F2} with {recall.CandidatesPerResult * 10} candidates (measured on {Math.Min(Search.HnswRecallCheck.Samples, recall.AtCount)} vectors)"
            : $"not used: recall@10 only {recall.Recall:F2} with the most candidates tried, so searches stay exact";

        /// <summary>Queries left out of the percentiles: the first ones run while the JIT still tiers up (reported apart).</summary>
        public const int WarmUp = 5;

        /// <summary>p50/p99 of the queries after <see cref="WarmUp"/>, and the first (cold) query apart.</summary>
        public static string Latency(List<double> ms)
        {
            var first = ms[0];
            var warm = ms.Count > 2 * WarmUp ? ms.Skip(WarmUp).Order().ToList() : [.. ms.Order()];
            double P(double q) => warm[Math.Min(warm.Count - 1, (int)(q * warm.Count))];
            return $"p50 {P(0.50):F2} ms, p99 {P(0.99):F2} ms (n={warm.Count} after {ms.Count - warm.Count} warm-up; first query {first:F1} ms)";
        }

        public static float[] RandomUnitVectors(int count, int dim, int seed)
        {
            var random = new Random(seed);
            var data = new float[(long)count * dim];
            for (long i = 0; i < count; i++)
            {
                var row = data.AsSpan((int)(i * dim), dim);
                for (var j = 0; j < dim; j++)
                {
                    row[j] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
                }

                System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
            }

            return data;
        }

        /// <summary>Unit vectors around 1000 random centres (spread 0.5): shaped like real embeddings, which cluster.</summary>
        public static float[] ClusteredUnitVectors(int count, int dim, int seed, int centresSeed = -1)
        {
            const int Centres = 1000;
            var centres = RandomUnitVectors(Centres, dim, centresSeed >= 0 ? centresSeed : seed);
            var noise = RandomUnitVectors(count, dim, seed + 7919);
            var random = new Random(seed);
            var data = new float[(long)count * dim];
            for (var i = 0; i < count; i++)
            {
                var row = data.AsSpan(i * dim, dim);
                var c = random.Next(Centres);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(noise.AsSpan(i * dim, dim), 0.5f, centres.AsSpan(c * dim, dim), row);
                System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
            }

            return data;
        }

        public static long[] Ids(int count) => [.. Enumerable.Range(1, count).Select(i => (long)i)];
    }
}
