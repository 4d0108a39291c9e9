using System.Diagnostics;
using ClipSearch.Core.Model;
using ClipSearch.Tests;

namespace ClipSearch.Library.Bench;

/// <summary>"Re-running on an unchanged folder does no inference": N small images indexed once, then the re-run timed.</summary>
internal static class UnchangedBench
{
    public static async Task RunAsync(string modelDir, int files)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bench-unchanged-{Environment.ProcessId}");
        var photos = Path.Combine(dir, "photos");
        try
        {
            for (var i = 0; i < files; i++)
            {
                var folder = Path.Combine(photos, $"{i / 500:D3}");
                Directory.CreateDirectory(folder);
                TestImages.WriteBmp(Path.Combine(folder, $"img{i:D5}.bmp"), i, size: 8);
            }

            using var model = ClipModel.Load(modelDir, new ModelOptions { Encoders = Encoders.Vision, BatchSize = 64 });
            await using var library = await ImageLibrary.OpenAsync(Path.Combine(dir, "library.db"));
            var first = Stopwatch.StartNew();
            var indexed = await library.IndexAsync(model, [photos]);
            Console.WriteLine($"first run: {indexed.Embedded} embedded in {first.Elapsed.TotalSeconds:F1} s ({modelDir})");
            for (var run = 0; run < 3; run++)
            {
                var again = Stopwatch.StartNew();
                var result = await library.IndexAsync(model, [photos]);
                Console.WriteLine($"unchanged re-run {run + 1}: {files} files in {again.Elapsed.TotalMilliseconds:F0} ms, {result.Embedded} embedded, {result.Unchanged} unchanged");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
