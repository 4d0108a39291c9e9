using System.Globalization;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Tests;

namespace ClipSearch.MemoryProbe;

// Decodes one image the way ClipSearch does and reports how much the process's resident memory grew meanwhile,
// next to what the decode took from its budget (tests check the one against the other; see docs/memory.md):
//   ClipSearch.MemoryProbe crop|crop-file|thumbnail|thumbnail-file FILE [exact] [no-exif]
//   ClipSearch.MemoryProbe generate KIND WIDTH HEIGHT OUT          (KIND: see ImageKinds)
// Before the measurement every kind is decoded once, small (so that code, tables and arenas of the codecs are in
// place), the heap is collected, and the kernel's peak-resident mark is reset (/proc/self/clear_refs, 5); after it,
// the growth is VmHWM − the resident size at the reset (after one such measurement of nothing, which finds a few MB
// of its own). One JSON line, in bytes: {"charged":…,"growth":…}.
internal static class Probe
{
    private static int Main(string[] args)
    {
        if (args is ["generate", var kind, var width, var height, var output])
        {
            File.WriteAllBytes(output, ImageKinds.All[kind](int.Parse(width, CultureInfo.InvariantCulture), int.Parse(height, CultureInfo.InvariantCulture)));
            return 0;
        }

        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: ClipSearch.MemoryProbe crop|crop-file|thumbnail|thumbnail-file FILE [exact] [no-exif]");
            return 2;
        }

        var mode = args[0];
        var path = args[1];
        var options = new ImageLoadOptions { Exact = args.Contains("exact"), ApplyExifOrientation = !args.Contains("no-exif") };

        var scratch = Directory.CreateTempSubdirectory("clipsearch-probe-");
        try
        {
            foreach (var (name, make) in ImageKinds.All)
            {
                var small = Path.Combine(scratch.FullName, name);
                File.WriteAllBytes(small, make(64, 48));
                Run(mode, options, small, new DecodeBudget());
            }

            var bytes = mode is "crop" or "thumbnail" ? File.ReadAllBytes(path) : null;
            var budget = new DecodeBudget(long.MaxValue / 2);
            Measure(() => { });   // the first measurement finds a few MB of its own (the heap's first pages after a collection)
            var growth = Measure(() => Run(mode, options, path, budget, bytes));
            Console.WriteLine(JsonSerializer.Serialize(new { charged = budget.Peak, growth }));
            return 0;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    static void Run(string mode, ImageLoadOptions options, string file, DecodeBudget budget, byte[]? encoded = null)
    {
        var withBudget = options with { Budget = budget };
        switch (mode)
        {
            case "crop":
                ImageLoader.LoadCrop(encoded ?? File.ReadAllBytes(file), file, PreprocessConfig.Default, withBudget);
                break;
            case "crop-file":
                ImageLoader.LoadCrop(file, PreprocessConfig.Default, withBudget);
                break;
            case "thumbnail":
                Thumbnails.Make(encoded ?? File.ReadAllBytes(file), file, budget);
                break;
            case "thumbnail-file":
                Thumbnails.MakeAsync(file, file, budget).GetAwaiter().GetResult();
                break;
            default:
                throw new ArgumentException($"unknown mode {mode}");
        }
    }

    // The growth of the peak resident size while `work` runs, from a collected heap.
    static long Measure(Action work)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        File.WriteAllText("/proc/self/clear_refs", "5");
        var baseline = Kilobytes("VmRSS");
        work();
        return (Kilobytes("VmHWM") - baseline) * 1024;
    }

    static long Kilobytes(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no {field} in /proc/self/status");
    }
}
