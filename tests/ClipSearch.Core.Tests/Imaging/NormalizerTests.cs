using System.Text.Json;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class NormalizerTests
{
    private static readonly ImageLoadOptions _asReference = new() { Exact = true, ApplyExifOrientation = false };

    public static TheoryData<string> Images => ReferenceImages.FixtureNames();

    [Theory]
    [MemberData(nameof(Images))]
    public void ToChw_MatchesReferencePixelMeanAndStd(string fileName)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("preprocess.json")));
        var expected = json.RootElement.GetProperty("images").GetProperty(fileName);

        var crop = ImageLoader.LoadCrop(Fixtures.Path("images", fileName), PreprocessConfig.Default, _asReference);
        var values = Normalizer.ToChw(crop, PreprocessConfig.Default);

        double mean = values.Average(v => (double)v);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        Assert.Equal(expected.GetProperty("pixel_mean").GetDouble(), mean, 1e-4);
        Assert.Equal(expected.GetProperty("pixel_std").GetDouble(), Math.Sqrt(variance), 1e-4);
    }

    [Fact]
    public void ToChw_IsChannelMajorFloat32TorchArithmetic()
    {
        var crop = new RgbImage(2, 1, [0, 128, 255, 10, 20, 30]);
        var values = Normalizer.ToChw(crop, PreprocessConfig.Default);

        // (v / 255f - mean) / std in float32, as ToTensor then Normalize compute it; R plane, G plane, B plane.
        float[] expected =
        [
            (0 / 255f - 0.48145466f) / 0.26862954f, (10 / 255f - 0.48145466f) / 0.26862954f,
            (128 / 255f - 0.4578275f) / 0.26130258f, (20 / 255f - 0.4578275f) / 0.26130258f,
            (255 / 255f - 0.40821073f) / 0.27577711f, (30 / 255f - 0.40821073f) / 0.27577711f,
        ];
        Assert.Equal(expected, values);
    }

    [Fact]
    public void ToChw_ShortDestination_Throws()
    {
        var crop = new RgbImage(2, 2, new byte[12]);
        Assert.Throws<ArgumentException>(() => Normalizer.ToChw(crop, PreprocessConfig.Default, new float[11]));
    }
}
