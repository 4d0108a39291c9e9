using BenchmarkDotNet.Attributes;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Tokenization;
using SkiaSharp;

namespace ClipSearch.Bench;

/// <summary>Micro-benchmarks of the CPU stages around inference: tokenizing a query, preprocessing a camera JPEG.</summary>
[MemoryDiagnoser]
public class CoreBenchmarks
{
    private byte[] _cameraJpeg = [];

    [GlobalSetup]
    public void Setup()
    {
        // A 12-megapixel photo-like JPEG (noise over gradients), quality 90, as a phone camera writes.
        using var bitmap = new SKBitmap(4032, 3024, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var random = new Random(7);
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < pixels.Length; i += 4)
        {
            var x = i / 4 % 4032;
            pixels[i] = (byte)Math.Clamp((x / 16) + random.Next(-12, 12), 0, 255);
            pixels[i + 1] = (byte)Math.Clamp((i / 4 / 4032 / 12) + random.Next(-12, 12), 0, 255);
            pixels[i + 2] = (byte)random.Next(100, 140);
            pixels[i + 3] = 255;
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        _cameraJpeg = data.ToArray();
        ClipTokenizer.Default.Encode("warm up");
    }

    [Benchmark]
    public int TokenizeQuery() => ClipTokenizer.Default.Encode("a photo of a cat").Length;

    [Benchmark]
    public int PreprocessCameraJpegExact() =>
        ImageLoader.LoadCrop(_cameraJpeg, "camera.jpg", PreprocessConfig.Default, new ImageLoadOptions { Exact = true }).Width;

    [Benchmark]
    public int PreprocessCameraJpegFast() =>
        ImageLoader.LoadCrop(_cameraJpeg, "camera.jpg", PreprocessConfig.Default, new ImageLoadOptions()).Width;
}
