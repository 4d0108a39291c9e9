using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// Palette, grey and alpha images: by default they are converted to RGB before the resize, as the reference crops
/// were; with <see cref="ImageLoadOptions.ConvertToRgbBeforeResize"/> false they follow Pillow's own-mode rules.
/// </summary>
public sealed class PixelModeTests
{
    private static readonly ImageLoadOptions _exact = new() { Exact = true, ApplyExifOrientation = false };
    private static readonly ImageLoadOptions _ownMode = _exact with { ConvertToRgbBeforeResize = false };

    // A 4×4 image of 16 distinct colours, as palette indices 0..15 and as RGB.
    private static byte[] Palette256()
    {
        var palette = new byte[768];
        for (int i = 0; i < 256; i++)
        {
            palette[i * 3] = (byte)(i * 16);
            palette[(i * 3) + 1] = (byte)(255 - (i * 13));
            palette[(i * 3) + 2] = (byte)((i * 71) % 256);
        }

        return palette;
    }

    private static byte[] Indices => [.. Enumerable.Range(0, 16).Select(i => (byte)i)];

    private static byte[] AsRgb(byte[] palette, byte[] indices) =>
        [.. indices.SelectMany(i => new[] { palette[i * 3], palette[(i * 3) + 1], palette[(i * 3) + 2] })];

    private static RgbImage Load(byte[] file, ImageLoadOptions options) =>
        ImageLoader.LoadCrop(file, "test image", PreprocessConfig.Default, options);

    [Fact]
    public void PalettePng_ConvertedFirst_EqualsSameImageAsRgb()
    {
        var palette = Palette256();
        var palettePng = TestEncoders.Png(4, 4, 3, Indices, palette[..48]);
        var rgbPng = TestEncoders.Png(4, 4, 2, AsRgb(palette, Indices));

        Assert.Equal(Load(rgbPng, _exact).Pixels, Load(palettePng, _exact).Pixels);
    }

    [Fact]
    public void PalettePng_OwnMode_IsNearestNeighbour()
    {
        // 4 → 224 with nearest: output pixel x takes source int((x + 0.5) · 4/224), i.e. blocks of 56.
        var palette = Palette256();
        var crop = Load(TestEncoders.Png(4, 4, 3, Indices, palette[..48]), _ownMode);
        for (int y = 0; y < 224; y += 7)
        {
            for (int x = 0; x < 224; x += 5)
            {
                int index = ((y / 56) * 4) + (x / 56);
                Assert.Equal(palette[index * 3], crop.Pixels[((y * 224) + x) * 3]);
                Assert.Equal(palette[(index * 3) + 2], crop.Pixels[(((y * 224) + x) * 3) + 2]);
            }
        }
    }

    [Fact]
    public void PalettePng_WithTransparency_KeepsPaletteColours()
    {
        // convert("RGB") ignores tRNS: transparent entries keep their colour.
        var palette = Palette256();
        var transparent = TestEncoders.Png(4, 4, 3, Indices, palette[..48], transparency: [0, 0, 0, 0, 0, 0, 0, 0]);
        var opaque = TestEncoders.Png(4, 4, 3, Indices, palette[..48]);

        Assert.Equal(Load(opaque, _exact).Pixels, Load(transparent, _exact).Pixels);
        Assert.Equal(Load(opaque, _ownMode).Pixels, Load(transparent, _ownMode).Pixels);
    }

    [Fact]
    public void Gif_FirstFrame_EqualsSameImageAsRgb_AndTransparentPixelsKeepTheirColour()
    {
        var palette = Palette256();
        var rgbPng = TestEncoders.Png(4, 4, 2, AsRgb(palette, Indices));
        var gif = TestEncoders.Gif(4, 4, palette, Indices);
        var transparentGif = TestEncoders.Gif(4, 4, palette, Indices, transparentIndex: 5);

        var expected = Load(rgbPng, _exact).Pixels;
        Assert.Equal(expected, Load(gif, _exact).Pixels);
        Assert.Equal(expected, Load(transparentGif, _exact).Pixels);
        Assert.Equal(Load(gif, _ownMode).Pixels, Load(transparentGif, _ownMode).Pixels);
    }

    [Fact]
    public void Gif_WithGreyRampPalette_IsGreyNotPalette()
    {
        // Pillow opens a GIF whose palette is entry i = (i, i, i) as "L", which resizes bicubic even in own mode.
        var ramp = new byte[768];
        for (int i = 0; i < 768; i++)
        {
            ramp[i] = (byte)(i / 3);
        }

        byte[] indices = [0, 60, 120, 250, 30, 90, 150, 210, 255, 200, 100, 0, 5, 55, 155, 255];
        var gif = TestEncoders.Gif(4, 4, ramp, indices);
        var greyPng = TestEncoders.Png(4, 4, 0, indices);

        Assert.Equal(Load(greyPng, _ownMode).Pixels, Load(gif, _ownMode).Pixels);
        Assert.Equal(PillowMode.Grey, PillowModeSniffer.FromHeader(gif));
        Assert.Equal(PillowMode.Palette, PillowModeSniffer.FromHeader(TestEncoders.Gif(4, 4, Palette256(), indices)));
    }

    [Fact]
    public void GreyPng_EqualsSameValuesAsRgb()
    {
        byte[] grey = [.. Enumerable.Range(0, 35).Select(i => (byte)(i * 7))];
        var rgb = grey.SelectMany(v => new[] { v, v, v }).ToArray();
        Assert.Equal(
            Load(TestEncoders.Png(7, 5, 2, rgb), _exact).Pixels,
            Load(TestEncoders.Png(7, 5, 0, grey), _exact).Pixels);
    }

    [Fact]
    public void RgbaPng_ConvertedFirst_IgnoresAlpha_OwnMode_Premultiplies()
    {
        // Fully transparent red beside opaque blue: convert-first keeps the red, own mode turns it black.
        var rgba = new byte[6 * 4 * 4];
        for (int i = 0; i < 24; i++)
        {
            bool left = i % 6 < 3;
            rgba[(i * 4) + 0] = (byte)(left ? 255 : 0);
            rgba[(i * 4) + 2] = (byte)(left ? 0 : 255);
            rgba[(i * 4) + 3] = (byte)(left ? 0 : 255);
        }

        var png = TestEncoders.Png(6, 4, 6, rgba);
        Assert.Equal(PillowMode.Rgba, PillowModeSniffer.FromHeader(png));
        var convertedFirst = Load(png, _exact);
        var ownMode = Load(png, _ownMode);

        // The crop of 336×224 starts at column 56, which comes from the left (transparent) half.
        Assert.Equal(255, convertedFirst.Pixels[0]);
        Assert.Equal(0, ownMode.Pixels[0]);
    }

    [Theory]
    [InlineData(0, 8, "Grey")]
    [InlineData(0, 1, "Bilevel")]
    [InlineData(2, 8, "Rgb")]
    [InlineData(3, 8, "Palette")]
    [InlineData(4, 8, "GreyAlpha")]
    [InlineData(6, 8, "Rgba")]
    public void Sniffer_ReadsPngColourType(byte colourType, byte bitDepth, string mode)
    {
        var expected = Enum.Parse<PillowMode>(mode);
        var png = TestEncoders.Png(1, 1, 2, [0, 0, 0]);
        png[24] = bitDepth;
        png[25] = colourType;
        Assert.Equal(expected, PillowModeSniffer.FromHeader(png));
    }

    [Fact]
    public void Sniffer_LeavesJpegToSkia() =>
        Assert.Null(PillowModeSniffer.FromHeader(File.ReadAllBytes(Fixtures.Path("images", "exif_orientation6.jpg"))));
}
