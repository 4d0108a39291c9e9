using ClipSearch.Web.Localization;
using ClipSearch.Web.Services;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Tests;

/// <summary>Model host leases, the batcher, the script note, the dictionaries.</summary>
public sealed class ServicesTests
{
    [Fact]
    public async Task Batcher_ConcurrentRequests_EachGetsItsOwnEmbeddings()
    {
        using var host = new ModelHost(Options.Create(new ClipSearchOptions { Threads = 1 }));
        await host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        await using var batcher = new EmbeddingBatcher();
        using var lease = host.Acquire();
        var texts = Enumerable.Range(0, 12).Select(i => $"photo number {i}").ToArray();
        var results = await Task.WhenAll(texts.Select(t => batcher.EmbedTextsAsync(lease.Loaded, [t, t + " again"])));
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = lease.Model.EmbedTexts([texts[i], texts[i] + " again"]);
            Assert.Equal(expected[0], results[i][0], (a, b) => Math.Abs(a - b) < 1e-6f);
            Assert.Equal(expected[1], results[i][1], (a, b) => Math.Abs(a - b) < 1e-6f);
        }

        Assert.True(batcher.Rounds <= texts.Length);
    }

    [Fact]
    public async Task Host_UnloadWhileLeased_ModelWorksUntilReleased()
    {
        using var host = new ModelHost(Options.Create(new ClipSearchOptions()));
        await host.LoadAsync(TinyClip.ModelPath, null, 1);
        var lease = host.Acquire();
        host.Unload();
        Assert.Throws<ModelNotLoadedException>(() => host.Acquire());
        Assert.Equal(16, lease.Model.EmbedText("still here").Length);
        lease.Dispose();
    }

    [Fact]
    public async Task Host_FailedLoad_KeepsTheCurrentModelAndReportsTheError()
    {
        using var host = new ModelHost(Options.Create(new ClipSearchOptions()));
        await host.LoadAsync(TinyClip.ModelPath, null, 1);
        await Assert.ThrowsAsync<Core.ModelLoadException>(() => host.LoadAsync("/no/such/folder", null, 1));
        Assert.Equal(ModelState.Loaded, host.Status.State);
        Assert.Contains("/no/such/folder", host.Status.LastError);
    }

    [Theory]
    [InlineData("a photo of a cat", false)]
    [InlineData("一只猫的照片", true)]
    [InlineData("фотография кошки", true)]
    [InlineData("café crème brûlée", false)]
    [InlineData("a photo of 猫", false)]
    [InlineData("", false)]
    public void MostlyNonLatin_Text_Detects(string text, bool expected) => Assert.Equal(expected, QueryScript.MostlyNonLatin(text));

    [Fact]
    public void Strings_BothLanguages_HaveTheSameKeys()
    {
        Assert.Equal(Strings.English.Keys.Order(), Strings.Chinese.Keys.Order());
        Assert.All(Strings.Chinese.Values, v => Assert.False(string.IsNullOrWhiteSpace(v)));
    }

    [Fact]
    public void Presets_All_HaveClassesAndTemplatesWithPlaceholder()
    {
        Assert.Equal(9, ZeroShotPresets.All.Count);
        Assert.All(ZeroShotPresets.All.Values, p =>
        {
            Assert.NotEmpty(p.Classes);
            Assert.All(p.Templates, t => Assert.Contains("{}", t));
        });
    }
}
