using System.Diagnostics;
using System.Text.Json;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;

namespace ClipSearch.Bench;

/// <summary>
/// A preset's label embeddings cold (every prompt through the text encoder, as the first classify with the preset
/// does) and warm (read back from the disk cache, as after a restart), the way the web server does both.
///   zeroshot --model DIR --preset src/ClipSearch.Core/Similarity/Presets/imagenet.json [--templates default|all] [--unsorted]
///            [--classes N] [--threads N] [--variant V] [--cache DIR]
/// --templates default takes the preset's defaultTemplates (ImageNet: the notebook's 7) where it has them;
/// --unsorted batches prompts in their own order (ModelOptions.SortTextsByLength off), as before length sorting.
/// </summary>
internal static class ZeroShotBench
{
    public static int Run(string[] args)
    {
        var modelDir = Args.Get(args, "--model") ?? throw new ArgumentException("--model DIR");
        var presetPath = Args.Get(args, "--preset") ?? throw new ArgumentException("--preset FILE.json");
        var cacheDir = Args.Get(args, "--cache") ?? Path.Combine(Path.GetTempPath(), "clipsearch-bench-zeroshot");
        using var preset = JsonDocument.Parse(File.ReadAllText(presetPath));
        var classes = preset.RootElement.GetProperty("classes").EnumerateArray().Select(e => e.GetString()!).ToArray();
        classes = classes[..Math.Min(classes.Length, Args.Int(args, "--classes", classes.Length))];
        var templateSet = Args.Get(args, "--templates") ?? "all";
        var templatesField = templateSet == "default" && preset.RootElement.TryGetProperty("defaultTemplates", out _) ? "defaultTemplates" : "templates";
        var templates = preset.RootElement.GetProperty(templatesField).EnumerateArray().Select(e => e.GetString()!).ToArray();
        var sorted = !args.Contains("--unsorted");

        var clock = Stopwatch.StartNew();
        using var model = ClipModel.Load(modelDir, new ModelOptions
        {
            Encoders = Encoders.Text,
            Threads = Args.Int(args, "--threads", Environment.ProcessorCount),
            Variant = ModelVariants.Parse(Args.Get(args, "--variant") ?? "fp32"),
            SortTextsByLength = sorted,
            AllowSpinning = args.Contains("--spin"),
            BatchSize = Args.Int(args, "--batch-size", new ModelOptions().BatchSize),
        });
        var loadSeconds = clock.Elapsed.TotalSeconds;

        var cache = new LabelEmbeddingCache(cacheDir);
        var path = cache.PathFor(ModelIdentity.CacheKey(model), Path.GetFileNameWithoutExtension(presetPath), classes, templates);
        Directory.CreateDirectory(cache.Folder);
        File.Delete(path);
        var next = 0.1;
        var progress = new Progress(p =>
        {
            if (p.PromptsDone >= next * p.PromptsTotal)
            {
                Console.Error.WriteLine($"{p.PromptsDone}/{p.PromptsTotal} prompts, {clock.Elapsed.TotalSeconds:F0} s");
                next += 0.1;
            }
        });

        clock.Restart();
        var cold = new ZeroShotClassifier(model).LabelEmbeddings(classes, templates, progress, CancellationToken.None);
        var coldSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        LabelEmbeddingCache.Write(path, cold);
        var writeMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var warmClassifier = new ZeroShotClassifier(model);
        var stored = LabelEmbeddingCache.TryRead(path, classes.Length, model.EmbeddingDim) ?? throw new InvalidOperationException("The cache did not read back.");
        warmClassifier.Remember(classes, templates, stored);
        var warm = warmClassifier.LabelEmbeddings(classes, templates);
        var warmMs = clock.Elapsed.TotalMilliseconds;
        var identical = cold.Zip(warm).All(p => p.First.AsSpan().SequenceEqual(p.Second));

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "zeroshot",
            preset = Path.GetFileNameWithoutExtension(presetPath),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null,
            model = modelDir,
            variant = model.Folder.Variant.Name(),
            threads = model.Options.Threads,
            classes = classes.Length,
            templates = templates.Length,
            template_set = templateSet,
            length_sorted = sorted,
            batch_size = model.Options.BatchSize,
            distinct_classes = classes.Distinct(StringComparer.Ordinal).Count(),
            prompts = classes.Distinct(StringComparer.Ordinal).Count() * templates.Length,
            model_load_s = Math.Round(loadSeconds, 2),
            cold_s = Math.Round(coldSeconds, 1),
            cold_prompts_per_s = Math.Round(classes.Distinct(StringComparer.Ordinal).Count() * templates.Length / coldSeconds, 1),
            cache_write_ms = Math.Round(writeMs, 1),
            cache_bytes = new FileInfo(path).Length,
            warm_ms = Math.Round(warmMs, 1),
            identical,
        }));
        return 0;
    }

    private sealed class Progress(Action<ZeroShotProgress> report) : IProgress<ZeroShotProgress>
    {
        public void Report(ZeroShotProgress value) => report(value);
    }
}
