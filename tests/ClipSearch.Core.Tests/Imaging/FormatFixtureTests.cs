using ClipSearch.Core.Imaging;
using Xunit.Abstractions;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// The crops made from ../shared/fixtures/formats: each format as its own decoder gives it (libheif for HEIC and
/// AVIF, libjxl for JPEG XL, Pillow for TIFF), through openai/CLIP's preprocessing (formats.json says how).
/// Tolerances (issue #11): TIFF and lossless JPEG XL within 1 level; HEIC, AVIF and lossy JPEG XL a mean difference
/// of at most 1.0 level and no value more than 8 off (two decoders of one HEVC or AV1 stream differ by a few levels
/// in their YCbCr → RGB step).
/// </summary>
public sealed class FormatFixtureTests(ITestOutputHelper output)
{
    // As the reference crops were made: the whole image decoded, its orientation applied (exif_transpose).
    private static readonly ImageLoadOptions _asReference = new() { Exact = true, ApplyExifOrientation = true };

    [Theory]
    [InlineData("astronaut.tif", 1, 1.0)]
    [InlineData("multipage.tif", 1, 1.0)]
    [InlineData("page.tif", 1, 1.0)]
    [InlineData("motorcycle_right.jxl", 1, 1.0)]
    [InlineData("horse_lossy.jxl", 8, 1.0)]
    [InlineData("chelsea.heic", 8, 1.0)]
    [InlineData("rgba_256x256.heic", 8, 1.0)]
    [InlineData("coffee.avif", 8, 1.0)]
    public void LoadCrop_FormatFixture_MatchesItsDecodersCrop(string fileName, int maxDifference, double maxMean)
    {
        var crop = ImageLoader.LoadCrop(Fixtures.Path("formats", "images", fileName), PreprocessConfig.Default, _asReference);
        var expected = ReferenceImages.DecodeRgb(Fixtures.Path("formats", "crops224", Path.ChangeExtension(fileName, ".png")));

        var (max, mean, differing) = ReferenceImages.Compare(expected, crop);
        output.WriteLine($"{fileName}: max {max}, mean {mean:F4}, {differing} of {expected.Pixels.Length} values differ");
        Assert.True(max <= maxDifference, $"{fileName}: max abs diff {max} > {maxDifference} (mean {mean:F4})");
        Assert.True(mean <= maxMean, $"{fileName}: mean abs diff {mean:F4} > {maxMean}");
    }

    /// <summary>
    /// camera_orient6.tif carries orientation 6 (turn 90° clockwise). Its reference crop was made with Pillow 9.4,
    /// which turns a TIFF on load and then again in exif_transpose (python-pillow/Pillow#7381, fixed in Pillow 10.1
    /// by #7383): the reference is turned 180°, twice 90°. ClipSearch turns it once, as every viewer and Pillow ≥ 10.1
    /// do, so the reference turned back by one step (orientation 8, 90° anticlockwise) is what it must match: within
    /// 8 levels (mean ≤ 0.5), as Pillow's two resize passes (each rounded to 8 bits) run along the other axes of a
    /// quarter-turned image (turned 180°, as the reference, the same crop matches within 1).
    /// </summary>
    [Fact]
    public void LoadCrop_TiffOrientation6_TurnedOnceAsPillowFromVersion10_1()
    {
        var crop = ImageLoader.LoadCrop(Fixtures.Path("formats", "images", "camera_orient6.tif"), PreprocessConfig.Default, _asReference);
        var reference = ReferenceImages.DecodeRgb(Fixtures.Path("formats", "crops224", "camera_orient6.png"));
        var expected = ReferenceImages.TurnAnticlockwise(reference);

        var (max, mean, differing) = ReferenceImages.Compare(expected, crop);
        output.WriteLine($"camera_orient6.tif (reference turned back 90°): max {max}, mean {mean:F4}, {differing} values differ");
        Assert.True(max <= 8 && mean <= 0.5, $"max abs diff {max} (mean {mean:F4})");

        // And not the reference as it is (turned twice), nor the file unturned.
        Assert.True(ReferenceImages.Compare(reference, crop).Mean > 10);
        var unturned = ImageLoader.LoadCrop(Fixtures.Path("formats", "images", "camera_orient6.tif"), PreprocessConfig.Default, _asReference with { ApplyExifOrientation = false });
        Assert.True(ReferenceImages.Compare(expected, unturned).Mean > 10);

        // What the reference is: the file turned 180° (90° twice); the same resize axes, so within 1 level.
        var (max180, _, _) = ReferenceImages.Compare(ReferenceImages.TurnAnticlockwise(ReferenceImages.TurnAnticlockwise(reference)), unturned);
        Assert.True(max180 <= 1, $"the reference is not the file turned 180°: max {max180}");
    }
}
