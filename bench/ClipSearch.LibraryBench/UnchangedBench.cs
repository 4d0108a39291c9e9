using System.Buffers.Binary;
using System.Diagnostics;
using ClipSearch.Core.Model;

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
                WriteBmp(Path.Combine(folder, $"img{i:D5}.bmp"), i);
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

    private static void WriteBmp(string path, int seed)
    {
        const int Size = 8;
        var row = (Size * 3 + 3) & ~3;
        var bytes = new byte[54 + row * Size];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), Size);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), Size);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        new Random(seed).NextBytes(bytes.AsSpan(54));
        File.WriteAllBytes(path, bytes);
    }
}
