using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;

namespace ClipSearch.Cli.Tests;

public sealed class PresetsCommandTests
{
    private static string TinyClip => Fixtures.Path("tiny-clip");

    [Fact]
    public async Task Warm_Cifar10_WritesTheCacheFileAClassificationReads()
    {
        using var home = new TempFolder();
        var env = new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = home.Path };
        var first = await CliRunner.RunAsync(env, "presets", "warm", "--model", TinyClip, "--preset", "cifar10", "--threads", "1");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("cifar10: 180 prompts embedded", first.Stdout, StringComparison.Ordinal);

        // Read the way the server reads it (its folder, its key), against the classifier computing them afresh.
        using var model = ClipModel.Load(TinyClip, new ModelOptions { Threads = 1, Encoders = Encoders.Text });
        var preset = ZeroShotPresets.Get("cifar10");
        var cache = new LabelEmbeddingCache(Path.Combine(home.Path, "cache", LabelEmbeddingCache.FolderName));
        var classifier = new ZeroShotClassifier(model);
        var (source, stored) = cache.GetOrEmbed(classifier, ModelIdentity.CacheKey(model), model.EmbeddingDim, preset.Name, preset.Classes, preset.DefaultTemplates, null, CancellationToken.None);
        Assert.Equal(LabelEmbeddingSource.Disk, source);
        var fresh = new ZeroShotClassifier(model).LabelEmbeddings(preset.Classes, preset.DefaultTemplates);
        for (var i = 0; i < fresh.Length; i++)
        {
            Assert.Equal(fresh[i], stored[i], (a, b) => Math.Abs(a - b) <= 1e-6f);
        }

        var again = await CliRunner.RunAsync(env, "presets", "warm", "--model", TinyClip, "--preset", "cifar10");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("cifar10: already cached", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warm_BadTemplates_IsOneErrorLine()
    {
        var result = await CliRunner.RunAsync("presets", "warm", "--model", TinyClip, "--templates", "some");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Unknown --templates 'some': use default or all.", result.Stderr.Trim());
    }
}
