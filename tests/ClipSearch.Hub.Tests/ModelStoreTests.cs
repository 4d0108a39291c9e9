using ClipSearch.Core;
using ClipSearch.Core.Model;

namespace ClipSearch.Hub.Tests;

public sealed class ModelStoreTests
{
    // A model folder of the store names its repository by its place (ROOT/owner/name); any other folder names none.
    [Theory]
    [InlineData("Xenova/clip-vit-base-patch32", "Xenova/clip-vit-base-patch32")]
    [InlineData("Xenova/clip-vit-base-patch32/", "Xenova/clip-vit-base-patch32")]
    [InlineData("openai/clip-vit-base-patch32/onnx", null)]
    [InlineData("Xenova", null)]
    [InlineData("../elsewhere/clip", null)]
    [InlineData("a/..", null)]
    public void RepoOf_Folder_TheRepositoryItsPlaceInTheStoreNames(string relative, string? expected)
    {
        var store = new ModelStore(Path.Combine(Path.GetTempPath(), "clipsearch-store"));
        Assert.Equal(expected, store.RepoOf(Path.Combine(store.Root, relative))?.ToString());
    }

    [Fact]
    public async Task List_AfterDownload_ShowsTheModelVariantsAndSize()
    {
        await using var context = await HubTestContext.StartAsync();
        Assert.Empty(context.Store.List());
        Assert.Null(context.Store.DefaultModel);

        var result = await context.DownloadAsync(HubTestContext.Request(ModelVariant.Fp32, ModelVariant.Quantized));

        var model = Assert.Single(context.Store.List());
        Assert.Equal("Xenova/clip-vit-base-patch32", model.Repo);
        Assert.Equal(result.Directory, model.Directory);
        Assert.Equal([ModelVariant.Fp32, ModelVariant.Quantized], model.Variants);
        Assert.Equal(result.Files.Sum(f => f.Bytes), model.Bytes);
        Assert.Equal(0, model.IncompleteBytes);
        Assert.Equal(result.Directory, context.Store.DefaultModel?.Directory);
    }

    [Theory]
    [InlineData(ModelVariant.Fp32, ModelLayout.Split)]
    [InlineData(ModelVariant.Quantized, ModelLayout.Combined)]
    [InlineData(ModelVariant.Fp16, ModelLayout.Split)]
    public void Inspect_AndModelFolder_FindTheSameGraphs(ModelVariant variant, ModelLayout layout)
    {
        // One place names the graphs: what the store counts as installed is what a load opens.
        var dir = Path.Combine(Path.GetTempPath(), "clipsearch-tests-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, OnnxFileNames.Folder));
            foreach (var name in new[] { "config.json", "vocab.json", "merges.txt" })
            {
                File.WriteAllText(Path.Combine(dir, name), "{}");
            }

            var graphs = OnnxFileNames.Of(variant, layout);
            foreach (var graph in graphs)
            {
                File.WriteAllText(OnnxFileNames.InFolder(dir, graph), "");
            }

            Assert.Equal([variant], ModelStore.Inspect(dir, "a/b")!.Variants);
            var folder = ModelFolder.Open(dir, variant);
            Assert.Equal(layout, folder.Layout);
            Assert.Equal(graphs.Select(g => OnnxFileNames.InFolder(dir, g)), folder.OnnxFiles);
            Assert.Equal("onnx/text_model_fp16.onnx", OnnxFileNames.Text(ModelVariant.Fp16));
            Assert.Equal("onnx/model_quantized.onnx", OnnxFileNames.Combined(ModelVariant.Quantized));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Remove_DeletesTheFolder()
    {
        await using var context = await HubTestContext.StartAsync();
        await context.DownloadAsync();

        var removed = context.Store.Remove(HubRepo.Parse("Xenova/clip-vit-base-patch32"));

        Assert.Equal([ModelVariant.Fp32], removed.Variants);
        Assert.False(Directory.Exists(context.ModelDirectory));
        Assert.Empty(context.Store.List());
        var again = Assert.Throws<ClipSearchException>(() => context.Store.Remove(HubRepo.Default));
        Assert.Contains("is not installed", again.Message);
        Assert.Equal((ErrorCodes.ModelNotInstalled, "Xenova/clip-vit-base-patch32", context.Store.Root), (again.Code, again.Arguments[0], again.Arguments[1]));
        Assert.Equal($"Xenova/clip-vit-base-patch32 is not installed in {context.Store.Root} (`clipsearch model list` shows what is).", Cli.CliErrors.Describe(again));
    }

    [Fact]
    public void DefaultModel_PrefersXenovaClipOverOthers()
    {
        using var home = new TempFolder();
        var store = new ModelStore(home.File("models"));
        foreach (var repo in new[] { "Aaa/other-clip", "Xenova/clip-vit-base-patch32" })
        {
            var dir = store.DirectoryFor(HubRepo.Parse(repo));
            Directory.CreateDirectory(Path.Combine(dir, "onnx"));
            File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
            File.WriteAllText(Path.Combine(dir, "onnx", "model_quantized.onnx"), "x");
        }

        Assert.Equal(["Aaa/other-clip", "Xenova/clip-vit-base-patch32"], store.List().Select(m => m.Repo));
        Assert.Equal(store.DirectoryFor(HubRepo.Default), store.DefaultModel?.Directory);
        Assert.Equal([ModelVariant.Quantized], store.DefaultModel?.Variants);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("Xenova/../../x")]
    [InlineData("https://huggingface.co/Xenova/clip-vit-base-patch32")]
    [InlineData("justaname")]
    public void HubRepo_Parse_RejectsWhatIsNotOwnerSlashName(string text)
    {
        var error = Assert.Throws<ClipSearchException>(() => HubRepo.Parse(text));
        Assert.Contains("use owner/name", error.Message);
    }
}
