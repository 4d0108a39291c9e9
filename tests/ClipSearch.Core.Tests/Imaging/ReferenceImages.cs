using ClipSearch.Core.Imaging;
using SkiaSharp;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>Reading reference crops and comparing images in tests.</summary>
internal static class ReferenceImages
{
    /// <summary>The fixture images (file names), for theories.</summary>
    public static TheoryData<string> FixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Fixtures.Path("images")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    /// <summary>Decodes an 8-bit PNG as RGB with Skia, no colour conversion.</summary>
    public static RgbImage DecodeRgb(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new InvalidOperationException($"Skia cannot open {path}");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        var result = codec.GetPixels(info, rgba);
        Assert.Equal(SKCodecResult.Success, result);
        var rgb = new byte[3 * info.Width * info.Height];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = rgba[j];
            rgb[i + 1] = rgba[j + 1];
            rgb[i + 2] = rgba[j + 2];
        }

        return new RgbImage(info.Width, info.Height, rgb);
    }

    /// <summary>Largest and mean absolute difference per channel value, and how many values differ.</summary>
    public static (int Max, double Mean, int Differing) Compare(RgbImage expected, RgbImage actual)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        int max = 0;
        long total = 0;
        int differing = 0;
        for (int i = 0; i < expected.Pixels.Length; i++)
        {
            int d = Math.Abs(expected.Pixels[i] - actual.Pixels[i]);
            max = Math.Max(max, d);
            total += d;
            differing += d != 0 ? 1 : 0;
        }

        return (max, (double)total / expected.Pixels.Length, differing);
    }

    /// <summary><paramref name="image"/> turned 90° clockwise (EXIF orientation 6): its top row becomes its right column.</summary>
    public static RgbImage TurnClockwise(RgbImage image) => Turn(image, (x, y, w, h) => (h - 1 - y, x));

    /// <summary><paramref name="image"/> turned 90° anticlockwise (EXIF orientation 8): its top row becomes its left column.</summary>
    public static RgbImage TurnAnticlockwise(RgbImage image) => Turn(image, (x, y, w, h) => (y, w - 1 - x));

    // Each pixel (x, y) of a w × h image goes to the place the mapping gives in the h × w result.
    private static RgbImage Turn(RgbImage image, Func<int, int, int, int, (int X, int Y)> to)
    {
        var (w, h) = (image.Width, image.Height);
        var turned = new byte[image.Pixels.Length];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (tx, ty) = to(x, y, w, h);
                image.Pixels.AsSpan(((y * w) + x) * 3, 3).CopyTo(turned.AsSpan(((ty * h) + tx) * 3));
            }
        }

        return new RgbImage(h, w, turned);
    }
}
