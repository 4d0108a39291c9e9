using ClipSearch.Core.Imaging;
using ImageMagick;
using Xunit.Abstractions;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// The TIFF layouts scanners, archives and cameras write (issue #11, item 1): LZW, Deflate, JPEG-in-TIFF, grey,
/// palette, 16-bit, CMYK; each written here with ImageMagick from a fixture PNG whose crop ClipSearch already makes
/// exactly as Pillow does, and read back through ClipSearch's TIFF path.
/// </summary>
public sealed class TiffVariantsTests(ITestOutputHelper output)
{
    private static readonly ImageLoadOptions _exact = new() { Exact = true };

    [Theory]
    [InlineData(CompressionMethod.LZW)]
    [InlineData(CompressionMethod.Zip)]
    [InlineData(CompressionMethod.NoCompression)]
    public void LoadCrop_LosslessTiff_TheSameCropAsItsPng(CompressionMethod compression)
    {
        var png = Fixtures.Path("images", "astronaut.png");
        var tiff = Tiff(png, image => image.Settings.Compression = compression);

        Assert.Equal(Crop(png).Pixels, Crop(tiff).Pixels);
    }

    [Fact]
    public void LoadCrop_GreyTiff_TheSameCropAsItsGreyPng()
    {
        var png = Fixtures.Path("images", "camera.png");   // 8-bit grey ("L")
        var tiff = Tiff(png, image => image.Settings.Compression = CompressionMethod.LZW);

        Assert.Equal(Crop(png).Pixels, Crop(tiff).Pixels);
    }

    [Fact]
    public void LoadCrop_SixteenBitTiff_ScaledToEightBitsWithinOneLevel()
    {
        var png = Fixtures.Path("images", "astronaut.png");
        var tiff = Tiff(png, image => image.Depth = 16);

        var (max, mean, _) = ReferenceImages.Compare(Crop(png), Crop(tiff));
        output.WriteLine($"16-bit: max {max}, mean {mean:F4}");
        Assert.True(max <= 1, $"max {max}");
    }

    [Fact]
    public void LoadCrop_PaletteTiff_ResizedWithNearestAsPillowsPMode()
    {
        // The same 64-colour image as a palette PNG ("P" in Pillow, resized with nearest) and a palette TIFF.
        using var source = new MagickImage(Fixtures.Path("images", "chelsea.png"));
        source.Quantize(new QuantizeSettings { Colors = 64, DitherMethod = DitherMethod.No });
        var png = source.Clone();
        png.Settings.SetDefine(MagickFormat.Png, "format", "png8");
        var paletteTiff = source.Clone();
        paletteTiff.ColorType = ColorType.Palette;

        var fromPng = ImageLoader.LoadCrop(png.ToByteArray(MagickFormat.Png8), "p.png", PreprocessConfig.Default, _exact);
        var fromTiff = ImageLoader.LoadCrop(paletteTiff.ToByteArray(MagickFormat.Tiff), "p.tif", PreprocessConfig.Default, _exact);
        Assert.Equal(fromPng.Pixels, fromTiff.Pixels);
    }

    [Fact]
    public void LoadCrop_JpegInTiff_CloseToItsSource()
    {
        var png = Fixtures.Path("images", "astronaut.png");
        var tiff = Tiff(png, image =>
        {
            image.Settings.Compression = CompressionMethod.JPEG;
            image.Quality = 95;
        });

        var (max, mean, _) = ReferenceImages.Compare(Crop(png), Crop(tiff));
        output.WriteLine($"JPEG-in-TIFF: max {max}, mean {mean:F4}");
        Assert.True(mean <= 2.0, $"mean {mean:F4}");
    }

    [Fact]
    public void LoadCrop_CmykTiff_ConvertedToRgbAsPillowDoes()
    {
        // C, M, Y, K written as (255 − R, 255 − G, 255 − B, 0): Pillow's CMYK → RGB gives the RGB back exactly.
        using var rgb = new MagickImage(Fixtures.Path("images", "astronaut.png"));
        rgb.Alpha(AlphaAction.Off);
        var source = rgb.GetPixels().ToByteArray("RGB")!;
        var cmyk = new byte[source.Length / 3 * 4];
        for (int i = 0, j = 0; i < source.Length; i += 3, j += 4)
        {
            (cmyk[j], cmyk[j + 1], cmyk[j + 2], cmyk[j + 3]) = ((byte)(255 - source[i]), (byte)(255 - source[i + 1]), (byte)(255 - source[i + 2]), 0);
        }

        using var tiff = new MagickImage();
        tiff.ReadPixels(cmyk, new PixelReadSettings(rgb.Width, rgb.Height, StorageType.Char, "CMYK"));
        tiff.ColorSpace = ColorSpace.CMYK;
        var bytes = tiff.ToByteArray(MagickFormat.Tiff);
        Assert.Equal("separated", Photometric(bytes));

        Assert.Equal(Crop(Fixtures.Path("images", "astronaut.png")).Pixels, ImageLoader.LoadCrop(bytes, "cmyk.tif", PreprocessConfig.Default, _exact).Pixels);
    }

    [Fact]
    public void LoadCrop_TruncatedStrips_AnErrorNotAPartialImage()
    {
        // The directory first (as cameras and scanners often write), then the pixels, cut off half way.
        const int width = 300, height = 200;
        var tiff = UncompressedRgbTiff(width, height);
        Assert.Equal(224, Crop(tiff).Width);   // whole, it reads

        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(tiff[..(tiff.Length / 2)], "cut.tif", PreprocessConfig.Default, _exact));
        Assert.Contains("cut.tif is truncated or corrupt", e.Message, StringComparison.Ordinal);
    }

    // A baseline RGB TIFF: header, its directory, then one strip of pixels (a gradient).
    private static byte[] UncompressedRgbTiff(int width, int height)
    {
        var entries = new (ushort Tag, ushort Type, uint Count, uint Value)[]
        {
            (0x100, 4, 1, (uint)width), (0x101, 4, 1, (uint)height), (0x102, 3, 1, 8), (0x103, 3, 1, 1), (0x106, 3, 1, 2),
            (0x111, 4, 1, 0), (0x115, 3, 1, 3), (0x116, 4, 1, (uint)height), (0x117, 4, 1, (uint)(width * height * 3)),
        };
        int dataAt = 8 + 2 + (12 * entries.Length) + 4;
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write("II"u8);
        writer.Write((ushort)42);
        writer.Write(8u);
        writer.Write((ushort)entries.Length);
        foreach (var (tag, type, count, value) in entries)
        {
            writer.Write(tag);
            writer.Write(type);
            writer.Write(count);
            writer.Write(tag == 0x111 ? (uint)dataAt : value);
        }

        writer.Write(0u);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                writer.Write([(byte)(x * 255 / width), (byte)(y * 255 / height), (byte)128]);
            }
        }

        return stream.ToArray();
    }

    private static RgbImage Crop(byte[] tiff) => ImageLoader.LoadCrop(tiff, "whole.tif", PreprocessConfig.Default, _exact);

    [Theory]
    [InlineData(MagickFormat.Tiff)]
    [InlineData(MagickFormat.Jxl)]
    public void LoadCrop_OrientationTag6_TurnedOnceClockwise(MagickFormat format)
    {
        // TIFF's orientation tag and JPEG XL's header orientation are applied as EXIF's (libjxl is told to keep it).
        using var image = new MagickImage(Fixtures.Path("images", "astronaut.png"));   // square: so is the crop
        image.Alpha(AlphaAction.Off);
        image.Quality = 100;   // JPEG XL: lossless
        var upright = ImageLoader.LoadCrop(image.ToByteArray(format), "upright", PreprocessConfig.Default, _exact);
        image.Orientation = Orientation.RightTop;
        var turned = ImageLoader.LoadCrop(image.ToByteArray(format), "turned", PreprocessConfig.Default, _exact);

        var (max, mean, _) = ReferenceImages.Compare(ReferenceImages.TurnClockwise(upright), turned);
        output.WriteLine($"{format} orientation 6: max {max}, mean {mean:F4}");
        Assert.True(max <= 8 && mean <= 0.5, $"max {max}, mean {mean:F4}");
        Assert.True(ReferenceImages.Compare(upright, turned).Mean > 10, "not turned at all");
    }

    private static RgbImage Crop(string path) => ImageLoader.LoadCrop(path, PreprocessConfig.Default, _exact);

    private static string Tiff(string png, Action<MagickImage> configure)
    {
        using var image = new MagickImage(png);
        configure(image);
        var path = Path.Combine(Path.GetTempPath(), $"clipsearch-tiff-{Guid.NewGuid():N}.tif");
        image.Write(path, MagickFormat.Tiff);
        return path;
    }

    private static string Photometric(byte[] tiff)
    {
        using var image = new MagickImage();
        image.Ping(tiff);
        return image.GetAttribute("tiff:photometric") ?? "";
    }
}
