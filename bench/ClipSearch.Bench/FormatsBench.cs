using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ImageMagick;
using SkiaSharp;

namespace ClipSearch.Bench;

/// <summary>
/// Issue 11's targets, measured (bench/formats.sh runs them, and makes the HEIC and AVIF files with heif-enc):
///   formats make --photo PNG --width W --height H --out STEM [--tiff] [--tiff-layouts] [--png16] [--avif10]
///       a photo-like image: a 4:3 cut of the photograph scaled to W × H (Skia, cubic) with grain, written as
///       STEM.png (the source heif-enc encodes) and STEM.jpg (Skia, quality 90, 4:2:0); --tiff: STEM.tif
///       (ImageMagick, LZW, RGB, its default strips of a few rows); --tiff-layouts: STEM-onestrip.tif (the whole
///       image one strip), STEM-rgba.tif, STEM-cmyk.tif, STEM-grey.tif (LZW); --png16: STEM-16bit.png (the same
///       pixels in 16 bits, for a 10-bit HEIC); --avif10: STEM-10bit.avif and STEM-10bit-444.avif (ImageMagick's
///       own AV1 encoder)
///   formats time --files F1,F2,… [--runs 10] [--warmups 2]
///       median wall and CPU ms of ImageLoader.LoadCrop on each file, default (fast) path and exact path
///   formats memory --file F --warm W
///       one crop of F in this fresh process, after one of W (small, the same format: code and tables in place):
///       the growth of the peak resident size (VmHWM after resetting it, as tests/ClipSearch.MemoryProbe), the
///       process's peak resident size, and what the decode budget charged (ImageLoader.PeakBytes)
/// Each mode prints one JSON line.
/// </summary>
internal static class FormatsBench
{
    public static int Run(string[] args) => args.FirstOrDefault() switch
    {
        "make" => Make(args[1..]),
        "time" => Time(args[1..]),
        "memory" => Memory(args[1..]),
        _ => throw new ArgumentException("formats make|time|memory …"),
    };

    private static int Make(string[] args)
    {
        var photo = Args.Get(args, "--photo") ?? throw new ArgumentException("--photo PNG");
        int width = Args.Int(args, "--width", 4000), height = Args.Int(args, "--height", 3000);
        var stem = Args.Get(args, "--out") ?? throw new ArgumentException("--out STEM");
        using var source = SKBitmap.Decode(photo) ?? throw new ArgumentException($"{photo} cannot be decoded");

        // The largest 4:3 cut of the photograph, centred, scaled up to the size asked.
        int cutWidth = Math.Min(source.Width, source.Height * width / height), cutHeight = cutWidth * height / width;
        var cut = SKRectI.Create((source.Width - cutWidth) / 2, (source.Height - cutHeight) / 2, cutWidth, cutHeight);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var image = SKImage.FromBitmap(source))
        {
            canvas.DrawImage(image, cut, SKRect.Create(width, height), new SKSamplingOptions(SKCubicResampler.Mitchell), null);
        }

        // Grain as make-bench-images.mjs adds it (±12 levels, its generator), so that the image compresses like a photo.
        var pixels = bitmap.GetPixelSpan();
        uint seed = 7;
        var rgb = new byte[(long)width * height * 3];
        for (long i = 0, j = 0; i < pixels.Length; i += 4)
        {
            for (int c = 0; c < 3; c++)
            {
                seed = unchecked((seed * 1103515245) + 12345);
                int noise = (int)Math.Floor(((seed / 4294967296.0) - 0.5) * 24);
                rgb[j++] = pixels[(int)i + c] = (byte)Math.Clamp(pixels[(int)i + c] + noise, 0, 255);
            }
        }

        using (var pixmap = bitmap.PeekPixels())
        {
            Write(stem + ".png", pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 1)));
            Write(stem + ".jpg", pixmap.Encode(new SKJpegEncoderOptions(90, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)));
        }

        if (args.Contains("--tiff") || args.Contains("--tiff-layouts") || args.Contains("--png16") || args.Contains("--avif10"))
        {
            using var image = new MagickImage();
            image.ReadPixels(rgb, new PixelReadSettings((uint)width, (uint)height, StorageType.Char, PixelMapping.RGB));
            if (args.Contains("--tiff"))
            {
                WriteTiff(image, stem + ".tif");
            }

            if (args.Contains("--tiff-layouts"))
            {
                WriteTiff(image, stem + "-onestrip.tif", rowsPerStrip: height);
                using (var rgba = image.Clone())
                {
                    rgba.Alpha(AlphaAction.Set);
                    WriteTiff(rgba, stem + "-rgba.tif");
                }

                using (var cmyk = image.Clone())
                {
                    cmyk.ColorSpace = ColorSpace.CMYK;
                    WriteTiff(cmyk, stem + "-cmyk.tif");
                }

                using var grey = image.Clone();
                grey.Grayscale();
                WriteTiff(grey, stem + "-grey.tif");
            }

            if (args.Contains("--png16") || args.Contains("--avif10"))
            {
                // The same pixels in 16 bits (×257): the input heif-enc makes a 10-bit HEIC of.
                image.Depth = 16;
                if (args.Contains("--png16"))
                {
                    image.Write(stem + "-16bit.png", MagickFormat.Png48);
                }

                if (args.Contains("--avif10"))
                {
                    // 10-bit AVIF with ImageMagick's own AV1 encoder: Debian 12's heif-enc (libaom 3.6.0) aborts on 10-bit input.
                    image.Depth = 10;
                    image.Quality = 90;
                    image.Settings.SetDefine(MagickFormat.Heic, "speed", "8");
                    image.Write(stem + "-10bit.avif", MagickFormat.Avif);
                    image.Settings.SetDefine(MagickFormat.Heic, "chroma", "444");
                    image.Write(stem + "-10bit-444.avif", MagickFormat.Avif);
                }
            }
        }

        Console.WriteLine(JsonSerializer.Serialize(new { width, height, stem }));
        return 0;
    }

    private static void WriteTiff(IMagickImage<byte> image, string path, int rowsPerStrip = 0)
    {
        image.Settings.Compression = CompressionMethod.LZW;
        if (rowsPerStrip > 0)
        {
            image.Settings.SetDefine(MagickFormat.Tiff, "rows-per-strip", rowsPerStrip.ToString(CultureInfo.InvariantCulture));
        }

        image.Write(path, MagickFormat.Tiff);
        image.Settings.RemoveDefine(MagickFormat.Tiff, "rows-per-strip");
    }

    private static void Write(string path, SKData? data)
    {
        using var encoded = data ?? throw new InvalidOperationException($"Skia could not encode {path}");
        using var file = File.Create(path);
        encoded.SaveTo(file);
    }

    private static int Time(string[] args)
    {
        var files = (Args.Get(args, "--files") ?? throw new ArgumentException("--files F1,F2,…")).Split(',');
        int runs = Args.Int(args, "--runs", 10), warmups = Args.Int(args, "--warmups", 2);
        var config = PreprocessConfig.Default;
        var results = new Dictionary<string, object>(StringComparer.Ordinal);
        var process = Process.GetCurrentProcess();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var row = new Dictionary<string, object>(StringComparer.Ordinal) { ["bytes"] = bytes.Length };
            foreach (var (path, options) in new[] { ("fast", new ImageLoadOptions()), ("exact", new ImageLoadOptions { Exact = true }) })
            {
                row[$"{path}_charged_mb"] = Math.Round(ImageLoader.PeakBytes(bytes, file, config, options) / 1e6, 1);
                var wall = new List<double>();
                var cpu = new List<double>();
                for (int i = 0; i < warmups + runs; i++)
                {
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    ImageLoader.LoadCrop(file, config, options);
                    clock.Stop();
                    process.Refresh();
                    if (i >= warmups)
                    {
                        wall.Add(clock.Elapsed.TotalMilliseconds);
                        cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
                    }
                }

                row[$"{path}_ms"] = Math.Round(Median(wall), 1);
                row[$"{path}_ms_min"] = Math.Round(wall.Min(), 1);
                row[$"{path}_ms_max"] = Math.Round(wall.Max(), 1);
                row[$"{path}_cpu_ms"] = Math.Round(Median(cpu), 1);
                Console.Error.WriteLine($"  {Path.GetFileName(file)} {path}: {row[$"{path}_ms"]} ms (median of {runs})");
            }

            results[Path.GetFileName(file)] = row;
        }

        Console.WriteLine(JsonSerializer.Serialize(new { runs, warmups, files = results }));
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Memory(string[] args)
    {
        var file = Args.Get(args, "--file") ?? throw new ArgumentException("--file F");
        var warm = Args.Get(args, "--warm") ?? throw new ArgumentException("--warm W");
        var config = PreprocessConfig.Default;
        var options = new ImageLoadOptions { Exact = args.Contains("--exact") };
        ImageLoader.LoadCrop(warm, config, options with { Budget = new DecodeBudget() });

        var bytes = File.ReadAllBytes(file);
        var budget = new DecodeBudget(long.MaxValue / 2);
        var peakBytes = ImageLoader.PeakBytes(bytes, file, config, options);
        Measure(() => { });   // the first measurement finds a few MB of its own (as in the memory probe)
        var (growth, baseline, peak) = Measure(() => ImageLoader.LoadCrop(bytes, file, config, options with { Budget = budget }));
        var info = new MagickImageInfo(bytes);
        double pixels = (double)info.Width * info.Height;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            file = Path.GetFileName(file),
            megapixels = Math.Round(pixels / 1e6, 2),
            growth_bytes_per_pixel = Math.Round(growth / pixels, 2),
            charged_bytes_per_pixel = Math.Round(budget.Peak / pixels, 2),
            growth_mb = Math.Round(growth / 1e6, 1),
            charged_mb = Math.Round(budget.Peak / 1e6, 1),
            peak_bytes_mb = Math.Round(peakBytes / 1e6, 1),
            baseline_rss_mb = Math.Round(baseline / 1e6, 1),
            peak_rss_mb = Math.Round(peak / 1e6, 1),
            file_mb = Math.Round(bytes.Length / 1e6, 1),
        }));
        return 0;
    }

    // The growth of the peak resident size while `work` runs, from a collected heap, with the resident size at the
    // start and the peak, in bytes.
    private static (long Growth, long Baseline, long Peak) Measure(Action work)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        File.WriteAllText("/proc/self/clear_refs", "5");
        var baseline = Kilobytes("VmRSS") * 1024;
        work();
        var peak = Kilobytes("VmHWM") * 1024;
        return (peak - baseline, baseline, peak);
    }

    private static long Kilobytes(string field)
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
