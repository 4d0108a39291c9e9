using ClipSearch.Core.Imaging;
using SkiaSharp;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>Photo-like test JPEGs made with Skia: smooth shapes plus grain, so that scaled DCT decoding is realistic.</summary>
internal static class SyntheticPhotos
{
    public static byte[] Jpeg(int width, int height, int quality = 90, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 4];
        double phase = random.NextDouble() * 6;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 4;
                double shade = Math.Sin((x / 97.0) + phase) * Math.Cos(y / 131.0);
                double detail = Math.Sin((x + y) / 7.0) * Math.Sin((x - y) / 11.0);
                pixels[i] = Clamp(128 + (70 * shade) + (20 * detail) + random.Next(-20, 21));
                pixels[i + 1] = Clamp(110 + (60 * Math.Cos((y / 71.0) + phase)) + (15 * detail) + random.Next(-20, 21));
                pixels[i + 2] = Clamp(90 + (50 * shade * detail) + random.Next(-20, 21));
                pixels[i + 3] = 255;
            }
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return ImageEncoder.Jpeg(bitmap, quality);
    }

    private static byte Clamp(double value) => (byte)Math.Clamp((int)Math.Round(value), 0, 255);
}
