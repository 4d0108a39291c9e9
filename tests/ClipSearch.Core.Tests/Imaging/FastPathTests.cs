using ClipSearch.Core.Imaging;
using Xunit.Abstractions;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class FastPathTests(ITestOutputHelper output)
{
    [Fact]
    public void Decode_LargeJpeg_PicksSmallestDctScaleKeepingTwiceTheTarget()
    {
        var jpeg = SyntheticPhotos.Jpeg(2000, 1500);

        // 1/8 → 250×188 and 1/4 → 500×375 are too small (shorter side < 448); 1/2 → 1000×750 is kept.
        var decoded = ImageDecoder.Decode(jpeg, "test", long.MaxValue, minShorterSide: 448);
        Assert.Equal(2, decoded.ScaleDenominator);
        Assert.Equal((1000, 750), (decoded.Pixels.Width, decoded.Pixels.Height));

        var full = ImageDecoder.Decode(jpeg, "test", long.MaxValue, minShorterSide: null);
        Assert.Equal((1, 2000, 1500), (full.ScaleDenominator, full.Pixels.Width, full.Pixels.Height));
    }

    [Fact]
    public void Decode_SmallJpegAndOtherFormats_StayFullSize()
    {
        var small = ImageDecoder.Decode(SyntheticPhotos.Jpeg(800, 600), "test", long.MaxValue, minShorterSide: 448);
        Assert.Equal(1, small.ScaleDenominator);

        var png = ImageDecoder.Decode(File.ReadAllBytes(Fixtures.Path("images", "motorcycle_right.png")), "test", long.MaxValue, 224);
        Assert.Equal(1, png.ScaleDenominator);
    }

    [Fact]
    public void LoadCrop_FastPath_StaysWithinOneLevelOfExactOnAverage()
    {
        var jpeg = SyntheticPhotos.Jpeg(2400, 1800, seed: 7);
        var exact = ImageLoader.LoadCrop(jpeg, "test", PreprocessConfig.Default, new ImageLoadOptions { Exact = true });
        var fast = ImageLoader.LoadCrop(jpeg, "test", PreprocessConfig.Default, new ImageLoadOptions());

        var (max, mean, _) = ReferenceImages.Compare(exact, fast);
        output.WriteLine($"2400×1800 JPEG, fast (1/4 DCT) vs exact: max {max}, mean {mean:F4}");
        Assert.True(mean <= 1.0, $"mean abs diff {mean:F4} > 1.0 (max {max})");
    }
}
