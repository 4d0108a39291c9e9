using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Bench;

/// <summary>
/// recall@10 of image queries and of text queries, for the in-memory graph (HNSW + exact re-ranking) and
/// pgvector, by candidate count, and what the recall check picks. Data: clustered image vectors with a text-like
/// query set across a modality gap (<see cref="GapTextQueries"/>), or the tiny model's real embeddings of
/// synthetic images and of prompts. One JSON line per measurement.
/// </summary>
internal static class TextRecallBench
{
    /// <summary>Length of the shared gap offset added to every text query (the centres are unit vectors).</summary>
    public const float Gap = 2.5f;

    /// <summary>Length of each text query's own noise.</summary>
    public const float TextNoise = 1.3f;

    private static readonly int[] GraphSteps = [.. HnswRecallCheck.GraphCandidateSteps];

    /// <summary>Clustered image vectors (1000 centres + noise 0.5) and gap text queries, in memory or in pgvector.</summary>
    public static async Task RunAsync(int rows, int dim, int queryCount, string store, string connection)
    {
        var images = Stats.ClusteredUnitVectors(rows, dim, seed: 1);
        var imageQueries = Split(Stats.ClusteredUnitVectors(queryCount, dim, seed: 2, centresSeed: 1), dim);
        var textQueries = GapTextQueries(queryCount, dim, seed: 3, centresSeed: 1);
        const string Data = "clustered-1000-centres+gap-text";
        if (store == "pgvector")
        {
            await PgvectorBench.WithLibraryAsync(connection, images, rows, dim, async library =>
            {
                var exact = new ExactIndex(dim);
                var stored = await library.LoadVectorsAsync(0);
                exact.Add(stored.Ids, stored.Vectors);
                Geometry(Data, exact, imageQueries, textQueries);
                await RecallTextQueries.SaveAsync(library, (await library.GetModelAsync())!, [.. textQueries.Take(RecallTextQueries.Count)]);
                using var index = new PgvectorIndex(library);
                foreach (var perResult in index.CandidateSteps)
                {
                    index.CandidatesOverride = perResult;
                    var image = await RecallAsync(exact, imageQueries, q => index.SearchAsync(q, 10));
                    var text = await RecallAsync(exact, textQueries, q => index.SearchAsync(q, 10));
                    Line(new { bench = "text-recall", store = "pgvector", data = Data, rows, dim, efSearch = perResult * 10, imageRecall = image.Recall, textRecall = text.Recall, imageP50Ms = image.P50, textP50Ms = text.P50, queries = queryCount });
                }

                index.CandidatesOverride = null;
                var clock = Stopwatch.StartNew();
                var check = await index.CheckRecallAsync();
                Line(new { bench = "text-recall", store = "pgvector", data = Data, rows, dim, check = true, efSearch = check.CandidatesPerResult * 10, trusted = check.Usable, imageRecall = check.Recall, textRecall = check.TextRecall, textQueries = check.TextQueries, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1) });
            });
            return;
        }

        MeasureGraph(Data, images, dim, imageQueries, textQueries, [.. textQueries.Take(RecallTextQueries.Count)]);
    }

    /// <summary>The tiny model's embeddings of <paramref name="rows"/> synthetic images (200 subjects) and of prompts.</summary>
    public static void RunTiny(string modelPath, int rows, int queryCount)
    {
        using var model = ClipModel.Load(modelPath, new ModelOptions { BatchSize = 64 });
        var clock = Stopwatch.StartNew();
        var images = EmbedSynthetic(model, rows, seed: 1);
        Console.WriteLine($"# embedded {rows} synthetic images in {clock.Elapsed.TotalSeconds:F0} s");
        var imageQueries = Split(EmbedSynthetic(model, queryCount, seed: 2), model.EmbeddingDim);
        var prompts = Core.Similarity.ZeroShotPresets.All.Values.SelectMany(p => p.Classes).Distinct().Take(queryCount)
            .Select(c => RecallTextQueries.Template.Replace("{}", c, StringComparison.Ordinal)).ToList();
        var textQueries = model.EmbedTexts(prompts);
        MeasureGraph($"tiny-clip-{model.EmbeddingDim}d-synthetic-images+prompts", images, model.EmbeddingDim, imageQueries, textQueries, model.EmbedTexts(RecallTextQueries.Prompts));
    }

    /// <summary>
    /// Text-like queries: a cluster centre (as the image vectors use) plus one shared offset of length
    /// <see cref="Gap"/> (the modality gap: every text is displaced the same way) plus noise of its own of length
    /// <see cref="TextNoise"/>, normalised. With image noise 0.5 this puts a text at cosine ~0.3 from its
    /// cluster's images while images of one cluster are ~0.8 apart and texts ~0.7 apart, as with CLIP.
    /// </summary>
    public static float[][] GapTextQueries(int count, int dim, int seed, int centresSeed)
    {
        const int Centres = 1000;
        var centres = Stats.RandomUnitVectors(Centres, dim, centresSeed);
        var gap = Stats.RandomUnitVectors(1, dim, seed: 4242);
        var noise = Stats.RandomUnitVectors(count, dim, seed + 7919);
        var random = new Random(seed);
        var queries = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var row = new float[dim];
            TensorPrimitives.MultiplyAdd(gap, Gap, centres.AsSpan(random.Next(Centres) * dim, dim), row);
            TensorPrimitives.MultiplyAdd(noise.AsSpan(i * dim, dim), TextNoise, row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
            queries[i] = row;
        }

        return queries;
    }

    private static void MeasureGraph(string data, float[] images, int dim, float[][] imageQueries, float[][] textQueries, IReadOnlyList<float[]> checkTexts)
    {
        var rows = images.Length / dim;
        var exact = new ExactIndex(dim);
        exact.Add(Stats.Ids(rows), images);
        Geometry(data, exact, imageQueries, textQueries);
        var build = Stopwatch.StartNew();
        using var hnsw = HnswIndex.Create(dim, "bench", 0);
        hnsw.Add(Stats.Ids(rows), images);
        Line(new { bench = "text-recall", store = "memory", data, rows, dim, buildSeconds = Math.Round(build.Elapsed.TotalSeconds, 1) });
        foreach (var perResult in GraphSteps)
        {
            var image = RecallAsync(exact, imageQueries, q => Task.FromResult(InMemoryVectorIndex.Rerank(exact, hnsw, q, 10, perResult))).GetAwaiter().GetResult();
            var text = RecallAsync(exact, textQueries, q => Task.FromResult(InMemoryVectorIndex.Rerank(exact, hnsw, q, 10, perResult))).GetAwaiter().GetResult();
            Line(new { bench = "text-recall", store = "memory", data, rows, dim, candidates = Math.Max(perResult * 10, HnswIndex.ExpansionSearch), imageRecall = image.Recall, textRecall = text.Recall, imageP50Ms = image.P50, textP50Ms = text.P50, queries = imageQueries.Length });
        }

        var clock = Stopwatch.StartNew();
        var check = HnswRecallCheck.Measure(exact, hnsw, new VectorIndexOptions().MinimumRecall, checkTexts);
        Line(new { bench = "text-recall", store = "memory", data, rows, dim, check = true, candidates = check.CandidatesPerResult * 10, trusted = check.Usable, imageRecall = check.Recall, textRecall = check.TextRecall, textQueries = check.TextQueries, seconds = Math.Round(clock.Elapsed.TotalSeconds, 1) });
    }

    /// <summary>How far apart the two kinds sit: mean cosine of each query to its nearest library vectors.</summary>
    private static void Geometry(string data, ExactIndex exact, float[][] imageQueries, float[][] textQueries)
    {
        double Mean(float[][] queries, int k) => queries.Average(q => exact.Search(q, k).Average(h => h.Score));
        var textText = 0.0;
        var pairs = 0;
        for (var a = 0; a < Math.Min(50, textQueries.Length); a++)
        {
            for (var b = a + 1; b < Math.Min(50, textQueries.Length); b++, pairs++)
            {
                textText += TensorPrimitives.Dot(textQueries[a], textQueries[b]);
            }
        }

        Line(new
        {
            bench = "text-recall-geometry", data, rows = exact.Count,
            imageToNearestImage = Math.Round(Mean(imageQueries, 1), 3), imageToTop10Images = Math.Round(Mean(imageQueries, 10), 3),
            textToNearestImage = Math.Round(Mean(textQueries, 1), 3), textToTop10Images = Math.Round(Mean(textQueries, 10), 3),
            textToText = Math.Round(textText / Math.Max(1, pairs), 3),
        });
    }

    private static async Task<(double Recall, double P50)> RecallAsync(ExactIndex exact, float[][] queries, Func<float[], Task<IReadOnlyList<VectorHit>>> search)
    {
        var found = 0;
        var times = new List<double>();
        foreach (var query in queries)
        {
            var truth = exact.Search(query, 10).Select(h => h.Id).ToHashSet();
            var clock = Stopwatch.StartNew();
            var hits = await search(query);
            times.Add(clock.Elapsed.TotalMilliseconds);
            found += hits.Count(h => truth.Contains(h.ContentId));
        }

        times.Sort();
        return (Math.Round(found / (10.0 * queries.Length), 4), Math.Round(times[times.Count / 2], 2));
    }

    /// <summary>Embeddings of synthetic 224×224 images: 200 subjects (a coarse 7×7 colour pattern each), every image its subject with its own shift, tint and pixel noise.</summary>
    private static float[] EmbedSynthetic(ClipModel model, int count, int seed)
    {
        const int Subjects = 200;
        const int Size = 224;
        var patterns = new byte[Subjects][];
        var patternRandom = new Random(12345);
        for (var s = 0; s < Subjects; s++)
        {
            patterns[s] = new byte[7 * 7 * 3];
            patternRandom.NextBytes(patterns[s]);
        }

        var random = new Random(seed);
        var noise = new sbyte[(Size * Size * 3) + 4096];   // pixel noise in [-40, 40], read from a random offset per image
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = (sbyte)random.Next(-40, 41);
        }

        var dim = model.EmbeddingDim;
        var result = new float[(long)count * dim];
        const int Batch = 64;
        for (var start = 0; start < count; start += Batch)
        {
            var crops = new List<RgbImage>();
            for (var i = start; i < Math.Min(count, start + Batch); i++)
            {
                var pattern = patterns[random.Next(Subjects)];
                var (dx, dy) = (random.Next(32), random.Next(32));
                var tint = random.Next(-30, 31);
                var offset = random.Next(4096);
                var pixels = new byte[Size * Size * 3];
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        var cell = ((((y + dy) / 32) % 7 * 7) + (((x + dx) / 32) % 7)) * 3;
                        for (var c = 0; c < 3; c++)
                        {
                            var at = (((y * Size) + x) * 3) + c;
                            pixels[at] = (byte)Math.Clamp(pattern[cell + c] + tint + noise[offset + at], 0, 255);
                        }
                    }
                }

                crops.Add(new RgbImage(Size, Size, pixels));
            }

            var embeddings = model.EmbedImages(crops);
            for (var i = 0; i < embeddings.Length; i++)
            {
                embeddings[i].CopyTo(result.AsSpan((int)((start + i) * (long)dim), dim));
            }
        }

        return result;
    }

    private static float[][] Split(float[] rows, int dim) => [.. Enumerable.Range(0, rows.Length / dim).Select(i => rows.AsSpan(i * dim, dim).ToArray())];

    private static readonly JsonSerializerOptions LineOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Line(object value) => Console.WriteLine(JsonSerializer.Serialize(value, LineOptions));
}
