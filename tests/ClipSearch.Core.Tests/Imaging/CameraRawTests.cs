using ClipSearch.Core.Imaging;
using SkiaSharp;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// Camera raw files (issue #11, item 2), as small DNGs written by <see cref="TestDng"/>: a DNG 1.4 file whose first
/// directory is a baseline-JPEG preview and whose sub-directory is a 16-bit RGGB mosaic, the layout cameras and
/// converters write. libraw (through ImageMagick) reads both.
/// </summary>
public sealed class CameraRawTests
{
    private static readonly ImageLoadOptions _exact = new() { Exact = true, ApplyExifOrientation = true };

    [Fact]
    public void LoadCrop_DngWithALargePreview_IsThePreviewsCrop()
    {
        var (preview, width, height) = PreviewJpeg("astronaut.png");   // 512 × 512: large enough to stand for the photo
        var dng = TestDng.Write(64, 48, (_, _, _) => 30000, preview, orientation: 1, width, height);

        var crop = ImageLoader.LoadCrop(dng, "IMG_0001.DNG", PreprocessConfig.Default, _exact);
        var expected = ImageLoader.LoadCrop(preview, "preview.jpg", PreprocessConfig.Default, _exact);
        Assert.Equal(expected.Pixels, crop.Pixels);

        // The fast path decodes the preview at a reduced DCT scale, as any JPEG.
        var fast = ImageLoader.LoadCrop(dng, "IMG_0001.DNG", PreprocessConfig.Default, new ImageLoadOptions());
        Assert.Equal(ImageLoader.LoadCrop(preview, "preview.jpg", PreprocessConfig.Default, new ImageLoadOptions()).Pixels, fast.Pixels);
    }

    [Fact]
    public void LoadCrop_DngTurned_PreviewTurnedByTheRawFilesOrientation()
    {
        var (preview, width, height) = PreviewJpeg("astronaut.png");
        var upright = ImageLoader.LoadCrop(TestDng.Write(64, 48, (_, _, _) => 30000, preview, 1, width, height), "a.dng", PreprocessConfig.Default, _exact);
        var turned = ImageLoader.LoadCrop(TestDng.Write(64, 48, (_, _, _) => 30000, preview, 6, width, height), "b.dng", PreprocessConfig.Default, _exact);

        // Orientation 6: turned 90° clockwise. The preview is square, so is the crop; the two resize passes run along
        // the other axes once turned, hence a few levels of rounding.
        var expected = ReferenceImages.TurnClockwise(upright);
        var (max, mean, _) = ReferenceImages.Compare(expected, turned);
        Assert.True(max <= 8 && mean <= 0.5, $"max {max}, mean {mean:F3}");
        Assert.True(ReferenceImages.Compare(upright, turned).Mean > 10);
    }

    [Fact]
    public void LoadCrop_DngWithoutAPreview_DevelopedFromItsRawData()
    {
        // A neutral mosaic, bright on the left half and dark on the right: developed, it is grey, bright then dark.
        var dng = TestDng.Write(64, 48, (x, _, _) => (ushort)(x < 32 ? 30000 : 8000), previewJpeg: null);

        var crop = ImageLoader.LoadCrop(dng, "IMG_0002.DNG", PreprocessConfig.Default, _exact);
        var left = Pixel(crop, 20, 112);
        var right = Pixel(crop, 204, 112);
        Assert.True(left.Max() - left.Min() <= 3 && right.Max() - right.Min() <= 3, $"not grey: {string.Join(",", left)} / {string.Join(",", right)}");
        Assert.True(left[1] > right[1] + 60, $"left {left[1]} is not brighter than right {right[1]}");
    }

    [Fact]
    public void LoadCrop_DngWithOnlyASmallThumbnail_Developed()
    {
        // A 160 × 120 thumbnail (older cameras embed only that) is too small to stand for the photo.
        var (thumbnail, width, height) = PreviewJpeg("chelsea.png", 160);
        var dng = TestDng.Write(64, 48, (x, _, _) => (ushort)(x < 32 ? 30000 : 8000), thumbnail, 1, width, height);

        var crop = ImageLoader.LoadCrop(dng, "IMG_0003.DNG", PreprocessConfig.Default, _exact);
        var left = Pixel(crop, 20, 112);
        Assert.True(left.Max() - left.Min() <= 3, "the developed mosaic is grey; the cat's thumbnail is not");
    }

    [Fact]
    public void Thumbnail_Dng_AJpegOfItsPreview()
    {
        var (preview, width, height) = PreviewJpeg("astronaut.png");
        var thumbnail = Thumbnails.Make(TestDng.Write(64, 48, (_, _, _) => 30000, preview, 6, width, height), "IMG_0001.DNG");

        Assert.Equal("image/jpeg", Thumbnails.ContentTypeOf(thumbnail));
        using var bitmap = SKBitmap.Decode(thumbnail);
        Assert.Equal((320, 320), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void LoadCrop_NotARawFileNamedAsOne_ErrorNamesIt()
    {
        var bytes = "II*\0"u8.ToArray().Concat(new byte[200]).ToArray();
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadCrop(bytes, "IMG_0004.CR2", PreprocessConfig.Default, _exact));
        Assert.Contains("IMG_0004.CR2", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated or corrupt", e.Message, StringComparison.Ordinal);
    }

    private static (byte[] Jpeg, int Width, int Height) PreviewJpeg(string fixture, int? side = null)
    {
        using var source = SKBitmap.Decode(Fixtures.Path("images", fixture));
        using var sized = side is int s ? source.Resize(new SKImageInfo(s, s * source.Height / source.Width), SKSamplingOptions.Default) : source.Copy();
        using var data = sized.Encode(SKEncodedImageFormat.Jpeg, 90);
        return (data.ToArray(), sized.Width, sized.Height);
    }

    private static int[] Pixel(RgbImage image, int x, int y)
    {
        int at = ((y * image.Width) + x) * 3;
        return [image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]];
    }
}
