using ClipSearch.Core.Imaging;
using Xunit.Abstractions;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class ImageLoaderReferenceTests(ITestOutputHelper output)
{
    // As the reference crops were made: exact decode, EXIF orientation not applied.
    private static readonly ImageLoadOptions _asReference = new() { Exact = true, ApplyExifOrientation = false };

    public static TheoryData<string> Images => ReferenceImages.FixtureNames();

    [Theory]
    [MemberData(nameof(Images))]
    public void LoadCrop_MatchesReferenceCrop(string fileName)
    {
        var crop = ImageLoader.LoadCrop(Fixtures.Path("images", fileName), PreprocessConfig.Default, _asReference);
        var expected = ReferenceImages.DecodeRgb(Fixtures.Path("crops224", Path.ChangeExtension(fileName, ".png")));

        var (max, mean, differing) = ReferenceImages.Compare(expected, crop);
        output.WriteLine($"{fileName}: max {max}, mean {mean:F6}, {differing} of {expected.Pixels.Length} values differ");
        Assert.True(max <= 1, $"{fileName}: max abs diff {max} (mean {mean:F6}, {differing} values differ)");
    }

    [Fact]
    public void LoadCrop_AppliesExifOrientation6_MatchesTransposedReference()
    {
        var options = _asReference with { ApplyExifOrientation = true };
        var crop = ImageLoader.LoadCrop(Fixtures.Path("images", "exif_orientation6.jpg"), PreprocessConfig.Default, options);
        var expected = ReferenceImages.DecodeRgb(Fixtures.Path("crops224", "exif_orientation6_transposed.png"));

        var (max, mean, differing) = ReferenceImages.Compare(expected, crop);
        output.WriteLine($"exif_orientation6.jpg transposed: max {max}, mean {mean:F6}, {differing} values differ");
        Assert.True(max <= 1, $"max abs diff {max} (mean {mean:F6})");
    }
}
