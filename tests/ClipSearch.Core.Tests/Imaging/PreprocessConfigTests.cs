using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class PreprocessConfigTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("clipsearch-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string json)
    {
        var path = Path.Combine(_folder, "preprocessor_config.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [InlineData("tiny-clip")]
    [InlineData("tiny-clip-xenova")]
    public void FromFile_FixtureConfig_IsClipsDefault(string model)
    {
        var config = PreprocessConfig.FromFile(Fixtures.Path(model, "preprocessor_config.json"));
        var clip = PreprocessConfig.Default;
        Assert.Equal(clip.ShortestEdge, config.ShortestEdge);
        Assert.Equal((clip.CropWidth, clip.CropHeight), (config.CropWidth, config.CropHeight));
        Assert.Equal(clip.Resample, config.Resample);
        Assert.Equal(clip.Mean, config.Mean);
        Assert.Equal(clip.Std, config.Std);
        Assert.Equal(clip.RescaleFactor, config.RescaleFactor, 1e-15);
        Assert.True(config.DoResize && config.DoCenterCrop && config.DoRescale && config.DoNormalize);
    }

    [Fact]
    public void Default_MeanAndStd_AreClipsAsFloat32()
    {
        // preprocess.json's "about" gives the float32 values torch.as_tensor makes of CLIP's constants.
        Assert.Equal([0.48145467042922974, 0.45782750844955444, 0.40821072459220886], PreprocessConfig.Default.Mean.Select(v => (double)v));
        Assert.Equal([0.2686295509338379, 0.2613025903701782, 0.27577710151672363], PreprocessConfig.Default.Std.Select(v => (double)v));
    }

    [Fact]
    public void FromFile_OldStyleNumbers_AreRead()
    {
        var config = PreprocessConfig.FromFile(Write("""{ "size": 336, "crop_size": 336, "resample": 2 }"""));
        Assert.Equal(336, config.ShortestEdge);
        Assert.Equal((336, 336), (config.CropWidth, config.CropHeight));
        Assert.Equal(2, config.Resample);
    }

    [Theory]
    [InlineData("not json", "is not valid JSON")]
    [InlineData("[1, 2]", "is not a preprocessor configuration")]
    [InlineData("""{ "image_mean": [0.5, 0.5] }""", "image_mean must be a list of three numbers")]
    [InlineData("""{ "image_std": [0.5, 0, 0.5] }""", "image_std must hold three positive numbers")]
    [InlineData("""{ "size": { "height": 224, "width": 224 } }""", "size must be a number or hold shortest_edge")]
    [InlineData("""{ "crop_size": { "height": -1, "width": 224 } }""", "crop_size.height must be a positive whole number")]
    [InlineData("""{ "resample": 9 }""", "resample = 9 is not one of Pillow's filters")]
    public void FromFile_BadConfig_ThrowsModelLoadExceptionNamingTheFile(string json, string problem)
    {
        var path = Write(json);
        var error = Assert.Throws<ModelLoadException>(() => PreprocessConfig.FromFile(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void FromFile_Missing_ThrowsModelLoadException()
    {
        var path = Path.Combine(_folder, "absent.json");
        var error = Assert.Throws<ModelLoadException>(() => PreprocessConfig.FromFile(path));
        Assert.StartsWith(path, error.Message);
    }
}
