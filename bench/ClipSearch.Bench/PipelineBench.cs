using System.Diagnostics;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Core.Pipeline;

namespace ClipSearch.Bench;

/// <summary>
/// End to end as `clipsearch embed` runs it: model load, then image files → embeddings (decoding overlapped with
/// inference), then one text query at its real length (tokenize + encode). Prints one JSON line.
///   pipeline --model DIR --images DIR [--variant fp32] [--threads N] [--decoders N] [--batch-size N] [--exact]
/// </summary>
internal static class PipelineBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var modelDir = Args.Get(args, "--model") ?? throw new ArgumentException("--model DIR");
        var images = Args.Images(Args.Get(args, "--images") ?? throw new ArgumentException("--images DIR"));
        var options = new ModelOptions
        {
            Variant = ModelVariants.Parse(Args.Get(args, "--variant") ?? "fp32"),
            Threads = Args.Int(args, "--threads", Environment.ProcessorCount),
            BatchSize = Args.Int(args, "--batch-size", 16),
            AllowSpinning = args.Contains("--spin"),
        };
        var loadOptions = new ImageLoadOptions { Exact = args.Contains("--exact") };

        var clock = Stopwatch.StartNew();
        using var model = ClipModel.Load(modelDir, options);
        var loadSeconds = clock.Elapsed.TotalSeconds;

        var pipeline = new ImageEmbeddingPipeline(model, loadOptions, Args.Int(args, "--decoders", 0));
        await foreach (var _ in pipeline.RunAsync(images[..Math.Min(16, images.Length)]))
        {
            // warm-up: first batch allocates ONNX Runtime's arena
        }

        clock.Restart();
        var embedded = 0;
        await foreach (var result in pipeline.RunAsync(images))
        {
            embedded += result.Embedding is null ? 0 : 1;
        }

        var imagesPerSecond = images.Length / clock.Elapsed.TotalSeconds;

        const string Query = "a photo of a cat"; // 7 tokens with start and end
        var tokens = model.Tokenizer.Encode(Query).Length;
        for (var i = 0; i < 10; i++)
        {
            model.EmbedText(Query);
        }

        var latencies = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            clock.Restart();
            model.EmbedText(Query);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            tool = "clipsearch",
            variant = options.Variant.Name(),
            threads = options.Threads,
            batch = options.BatchSize,
            exact = loadOptions.Exact,
            images = images.Length,
            embedded,
            images_per_s = Math.Round(imagesPerSecond, 2),
            text_query_tokens = tokens,
            text_query_ms_p50 = Math.Round(latencies[latencies.Count / 2], 2),
            model_load_s = Math.Round(loadSeconds, 2),
        }));
        return 0;
    }
}
