using System.Diagnostics;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;

namespace ClipSearch.Bench;

/// <summary>
/// The two halves of the end-to-end rate measured apart: decoding + preprocessing alone (one thread), and inference
/// alone on ready crops (batch 16). Shows where the end-to-end pipeline's time goes.
///   split --model DIR --images DIR [--threads N]
/// </summary>
internal static class SplitBench
{
    public static int Run(string[] args)
    {
        var images = Args.Images(Args.Get(args, "--images") ?? throw new ArgumentException("--images DIR"));
        using var model = ClipModel.Load(Args.Get(args, "--model") ?? throw new ArgumentException("--model DIR"),
            new ModelOptions { Threads = Args.Int(args, "--threads", Environment.ProcessorCount) });
        var clock = Stopwatch.StartNew();
        var crops = images.Select(p => ImageLoader.LoadCrop(p, model.Preprocess, new ImageLoadOptions())).ToArray();
        var decodeMs = clock.Elapsed.TotalMilliseconds / images.Length;
        model.EmbedImages(crops[..16]);
        clock.Restart();
        model.EmbedImages(crops);
        var inferencePerSecond = crops.Length / clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            images = images.Length,
            decode_ms_per_image_one_thread = Math.Round(decodeMs, 2),
            inference_images_per_s = Math.Round(inferencePerSecond, 2),
        }));
        return 0;
    }
}
