using ClipSearch.Core.Imaging;
using SkiaSharp;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class ExifOrientationTests
{
    // Pillow's ImageOps.exif_transpose on the 3×2 image [1 2 3 / 4 5 6] with each orientation tag.
    public static TheoryData<int, int, int, byte[]> Cases => new()
    {
        { 1, 3, 2, [1, 2, 3, 4, 5, 6] },
        { 2, 3, 2, [3, 2, 1, 6, 5, 4] },
        { 3, 3, 2, [6, 5, 4, 3, 2, 1] },
        { 4, 3, 2, [4, 5, 6, 1, 2, 3] },
        { 5, 2, 3, [1, 4, 2, 5, 3, 6] },
        { 6, 2, 3, [4, 1, 5, 2, 6, 3] },
        { 7, 2, 3, [6, 3, 5, 2, 4, 1] },
        { 8, 2, 3, [3, 6, 2, 5, 1, 4] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_MatchesPillowExifTranspose(int orientation, int width, int height, byte[] expected)
    {
        var grey = new PixelBuffer(3, 2, 1, [1, 2, 3, 4, 5, 6]);
        var upright = ExifOrientation.Apply(grey, (SKEncodedOrigin)orientation);
        Assert.Equal((width, height), (upright.Width, upright.Height));
        Assert.Equal(expected, upright.ToArray());

        // Four channels move as whole pixels.
        var rgba = new PixelBuffer(3, 2, 4, [.. Enumerable.Range(1, 6).SelectMany(v => new[] { (byte)v, (byte)(v * 10), (byte)(v * 20), (byte)255 })]);
        var uprightRgba = ExifOrientation.Apply(rgba, (SKEncodedOrigin)orientation);
        Assert.Equal(expected, uprightRgba.ToArray().Where((_, i) => i % 4 == 0).ToArray());
        Assert.Equal(expected.Select(v => (byte)(v * 20)).ToArray(), uprightRgba.ToArray().Where((_, i) => i % 4 == 2).ToArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_Bitmap_MovesPixelsAsTheCropsDo(int orientation, int width, int height, byte[] expected)
    {
        // Thumbnails turn Skia bitmaps upright through the same mapping as the model's crops: the same Pillow cases.
        using var bitmap = new SKBitmap(new SKImageInfo(3, 2, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (var i = 0; i < 6; i++)
        {
            bitmap.SetPixel(i % 3, i / 3, new SKColor((byte)(i + 1), (byte)((i + 1) * 10), (byte)((i + 1) * 20), 255));
        }

        using var upright = ExifOrientation.Apply(bitmap, (SKEncodedOrigin)orientation);
        Assert.Equal((width, height), (upright.Width, upright.Height));
        var pixels = Enumerable.Range(0, width * height).Select(i => upright.GetPixel(i % width, i / width)).ToArray();
        Assert.Equal(expected, pixels.Select(p => p.Red).ToArray());
        Assert.Equal(expected.Select(v => (byte)(v * 20)).ToArray(), pixels.Select(p => p.Blue).ToArray());
    }

    [Fact]
    public void LoadCrop_ReadsOrientationFromJpeg()
    {
        // exif_orientation6.jpg is 640×480 stored; upright it is 480×640, so without the fixture the crops differ.
        var path = Fixtures.Path("images", "exif_orientation6.jpg");
        var options = new ImageLoadOptions { Exact = true };
        var upright = ImageLoader.LoadCrop(path, PreprocessConfig.Default, options);
        var stored = ImageLoader.LoadCrop(path, PreprocessConfig.Default, options with { ApplyExifOrientation = false });
        Assert.NotEqual(stored.Pixels, upright.Pixels);
    }
}
