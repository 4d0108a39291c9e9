using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tests.Model;

/// <summary>Whether a model is shaped as CLIP ViT-B/32, read from its config.json alone.</summary>
public sealed class ModelGeometryTests
{
    [Fact]
    public void HasVitB32Geometry_FullSizeConfig_True()
    {
        // The config of the full-size ViT-B/32 graphs in ../shared (the random-weight benchmark model's).
        var config = ModelConfig.FromFile(Path.Combine(Fixtures.Root, "..", "vit-b-32-graphs", "config.json"));
        Assert.True(config.HasVitB32Geometry);
        Assert.Equal("12 + 12 layers, widths 512/768, patch 32, 224 px, 512-d", config.Geometry);
        Assert.True(ModelConfig.Fallback.HasVitB32Geometry);
    }

    [Fact]
    public void HasVitB32Geometry_TinyClip_FalseAndSaysItsSizes()
    {
        var config = ModelConfig.FromFile(Fixtures.Path("tiny-clip", "config.json"));
        Assert.False(config.HasVitB32Geometry);
        Assert.Equal("2 + 2 layers, widths 32/48, patch 32, 224 px, 16-d", config.Geometry);
    }

    // ViT-B/16 and ViT-L/14 differ in one number or more each: none passes for ViT-B/32.
    [Theory]
    [InlineData(16, 224, 512, 768, 512)]
    [InlineData(14, 224, 768, 1024, 768)]
    [InlineData(32, 336, 512, 768, 512)]
    [InlineData(32, 224, 512, 768, 640)]
    public void HasVitB32Geometry_OtherShapes_False(int patch, int image, int textWidth, int visionWidth, int projection)
    {
        var fallback = ModelConfig.Fallback;
        var config = fallback with
        {
            PatchSize = patch,
            ImageSize = image,
            ProjectionDim = projection,
            Text = fallback.Text with { Width = textWidth },
            Vision = fallback.Vision with { Width = visionWidth },
        };
        Assert.False(config.HasVitB32Geometry);
    }
}
