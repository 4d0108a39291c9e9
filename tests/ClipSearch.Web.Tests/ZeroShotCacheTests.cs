using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The disk cache of a preset's label embeddings (HOME/cache/zero-shot/), through /api/classify on tiny-clip: each
/// server below is a new process-like host sharing one home folder, as a restart would.
/// </summary>
public sealed class ZeroShotCacheTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
    private readonly TempFolder _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task Classify_PresetAfterRestart_ReadsTheDiskCacheWithIdenticalProbabilities()
    {
        var cold = await ClassifyAsync("cifar100");
        Assert.Equal(LabelEmbeddingSource.Computed, cold.LabelEmbeddings);
        Assert.Single(CacheFiles());

        var warm = await ClassifyAsync("cifar100");

        Assert.Equal(LabelEmbeddingSource.Disk, warm.LabelEmbeddings);
        Assert.Equal(Scores(cold), Scores(warm));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("flipped")]
    [InlineData("garbage")]
    public async Task Classify_CorruptCacheFile_IsIgnoredAndRewritten(string damage)
    {
        var cold = await ClassifyAsync("cifar10");
        var file = Assert.Single(CacheFiles());
        var good = await File.ReadAllBytesAsync(file);
        var bad = damage switch
        {
            "truncated" => good[..(good.Length / 2)],
            "flipped" => [.. good.Select((b, i) => i == good.Length / 2 ? (byte)(b ^ 0x40) : b)],
            _ => "not a cache file"u8.ToArray(),
        };
        await File.WriteAllBytesAsync(file, bad);

        var again = await ClassifyAsync("cifar10");

        Assert.Equal(LabelEmbeddingSource.Computed, again.LabelEmbeddings);
        Assert.Equal(Scores(cold), Scores(again));
        Assert.Equal(good, await File.ReadAllBytesAsync(file));
        Assert.Equal(LabelEmbeddingSource.Disk, (await ClassifyAsync("cifar10")).LabelEmbeddings);
    }

    [Fact]
    public async Task WarmPresets_Idle_FillsTheCacheThatClassifyThenReadsWithIdenticalProbabilities()
    {
        using (var warming = TinyClip.Server(true, ("ClipSearch:Home", _home.Path), ("ClipSearch:WarmPresets", "true")))
        {
            using var client = warming.CreateClient();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            PresetWarmStatus? status = null;
            while (DateTime.UtcNow < deadline && status?.State != PresetWarmState.Done)
            {
                await Task.Delay(200);
                status = (await client.GetFromJsonAsync<ModelStatus>("/api/model", Json))!.PresetWarming;
            }

            Assert.Equal(PresetWarmState.Done, status?.State);
            Assert.Equal(ZeroShotPresets.All.Count, status!.PresetsWarm);
        }

        Assert.Equal(ZeroShotPresets.All.Count, CacheFiles().Length);
        Assert.DoesNotContain(CacheFiles(), f => f.EndsWith(LabelEmbeddingCache.PartialSuffix, StringComparison.Ordinal));
        var warm = await ClassifyAsync("cifar100");
        Assert.Equal(LabelEmbeddingSource.Disk, warm.LabelEmbeddings);

        using var coldHome = new TempFolder();
        using var coldServer = TinyClip.Server(true, ("ClipSearch:Home", coldHome.Path));
        using var coldClient = coldServer.CreateClient();
        var cold = await ClassifyAsync(coldClient, "cifar100");
        Assert.Equal(LabelEmbeddingSource.Computed, cold.LabelEmbeddings);
        Assert.Equal(Scores(cold), Scores(warm));
    }

    [Fact]
    public async Task WarmPresets_Default_IsOff()
    {
        using var server = Server();
        using var client = server.CreateClient();
        var status = (await client.GetFromJsonAsync<ModelStatus>("/api/model", Json))!;
        Assert.Equal(PresetWarmState.Off, status.PresetWarming?.State);
    }

    [Fact]
    public async Task Classify_SameServerTwice_SecondFromMemory()
    {
        using var server = Server();
        using var client = server.CreateClient();
        Assert.Equal(LabelEmbeddingSource.Computed, (await ClassifyAsync(client, "cifar10")).LabelEmbeddings);
        Assert.Equal(LabelEmbeddingSource.Memory, (await ClassifyAsync(client, "cifar10")).LabelEmbeddings);
    }

    [Fact]
    public async Task Classify_OwnLabels_NotCachedOnDisk()
    {
        using var server = Server();
        using var client = server.CreateClient();
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], ["a horse", "a cat"], imageField: "image", textField: "labels");
        using var response = await client.PostAsync("/api/classify", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(CacheFiles());
    }

    [Fact]
    public void Cache_OtherTemplatesOrModelFiles_OtherFile()
    {
        var cache = new LabelEmbeddingCache(_home.Path);
        string[] labels = ["cat", "dog"];
        var path = cache.PathFor("model-a", "cifar10", labels, ["a {}"]);
        Assert.NotEqual(path, cache.PathFor("model-a", "cifar10", labels, ["a photo of a {}"]));
        Assert.NotEqual(path, cache.PathFor("model-b", "cifar10", labels, ["a {}"]));
        Assert.NotEqual(cache.PathFor("m", "x", ["a\nb", "c"], ["{}"]), cache.PathFor("m", "x", ["a", "b\nc"], ["{}"]));
        Assert.StartsWith(Path.Combine(_home.Path, "cifar10-"), path);
    }

    [Fact]
    public void Cache_WrongShape_ReadsNull()
    {
        var path = Path.Combine(_home.Path, "x.bin");
        LabelEmbeddingCache.Write(path, [[1f, 0f], [0f, 1f]]);
        Assert.Equal([[1f, 0f], [0f, 1f]], LabelEmbeddingCache.TryRead(path, 2, 2));
        Assert.Null(LabelEmbeddingCache.TryRead(path, 3, 2));
        Assert.Null(LabelEmbeddingCache.TryRead(path, 2, 3));
        Assert.Null(LabelEmbeddingCache.TryRead(Path.Combine(_home.Path, "missing.bin"), 2, 2));
    }

    [Fact]
    public void ModelIdentity_TouchedFile_Changes()
    {
        using var copy = TempFolder.CopyOf(TinyClip.ModelPath);
        string before;
        using (var model = ClipModel.Load(copy.Path, new ModelOptions { Threads = 1 }))
        {
            before = ModelIdentity.CacheKey(model);
            Assert.Equal(before, ModelIdentity.CacheKey(model));
        }

        File.SetLastWriteTimeUtc(copy.File("onnx", "text_model.onnx"), DateTime.UtcNow.AddMinutes(-5));
        using var touched = ClipModel.Load(copy.Path, new ModelOptions { Threads = 1 });
        Assert.NotEqual(before, ModelIdentity.CacheKey(touched));
        using var quantized = ClipModel.Load(copy.Path, new ModelOptions { Threads = 1, Variant = ModelVariant.Quantized });
        Assert.NotEqual(ModelIdentity.CacheKey(touched), ModelIdentity.CacheKey(quantized));
    }

    private string[] CacheFiles() =>
        Directory.Exists(Path.Combine(_home.Path, "cache", "zero-shot")) ? Directory.GetFiles(Path.Combine(_home.Path, "cache", "zero-shot")) : [];

    private static string[] Scores(ClassifyResponse response) =>
        [.. response.Labels.Select(l => FormattableString.Invariant($"{l.Label} {l.Probability:R} {l.Cosine:R}"))];

    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Server() => TinyClip.Server(true, ("ClipSearch:Home", _home.Path));

    private async Task<ClassifyResponse> ClassifyAsync(string preset)
    {
        using var server = Server();
        using var client = server.CreateClient();
        return await ClassifyAsync(client, preset);
    }

    private static async Task<ClassifyResponse> ClassifyAsync(HttpClient client, string preset)
    {
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], [preset], imageField: "image", textField: "preset");
        form.Add(new StringContent("100"), "k");
        using var response = await client.PostAsync("/api/classify", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ClassifyResponse>(Json))!;
    }
}
