using ClipSearch.Core.Model;

namespace ClipSearch.Hub.Tests;

public sealed class ModelDownloaderTests
{
    private const string TextModel = "onnx/text_model.onnx";
    private const string VisionModel = "onnx/vision_model.onnx";

    [Fact]
    public async Task Download_Complete_LoadsAndEmbedsLikeTheFixture()
    {
        await using var context = await HubTestContext.StartAsync();
        var result = await context.DownloadAsync();

        Assert.Equal(context.ModelDirectory, result.Directory);
        Assert.Equal([ModelVariant.Fp32], result.Variants);
        Assert.Equal(16, result.EmbeddingDim);
        Assert.Equal(FakeHub.Commit, result.Commit);
        Assert.Equal(
            ["config.json", "preprocessor_config.json", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", TextModel, VisionModel],
            result.Files.Select(f => f.Path));
        Assert.Equal(context.Hub.Sha256Of(TextModel), result.Files.Single(f => f.Path == TextModel).Sha256);
        Assert.False(File.Exists(Path.Combine(result.Directory, "model.safetensors")));
        Assert.Empty(Directory.GetFiles(result.Directory, "*.incomplete", SearchOption.AllDirectories));
        // The ONNX bodies came through the CDN redirect, not from the resolve URL.
        Assert.Single(context.Hub.Requests, r => r.Method == "GET" && r.Path.StartsWith("/cdn/Xenova/clip-vit-base-patch32/" + TextModel, StringComparison.Ordinal));

        using var downloaded = ClipModel.Load(result.Directory, new ModelOptions { Threads = 1 });
        using var fixture = ClipModel.Load(HubTestContext.TinyClip, new ModelOptions { Threads = 1 });
        var expected = fixture.EmbedText("a photo of a cat");
        var actual = downloaded.EmbedText("a photo of a cat");
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, 1e-6));
    }

    [Fact]
    public async Task Download_Quantized_FetchesOnlyItsGraphs()
    {
        await using var context = await HubTestContext.StartAsync();
        var result = await context.DownloadAsync(HubTestContext.Request(ModelVariant.Quantized));

        Assert.Equal([ModelVariant.Quantized], result.Variants);
        Assert.Equal(["text_model_quantized.onnx", "vision_model_quantized.onnx"],
            Directory.GetFiles(Path.Combine(result.Directory, "onnx")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Download_All_SkipsTheVariantTheRepositoryLacks()
    {
        await using var context = await HubTestContext.StartAsync();
        var result = await context.DownloadAsync(HubTestContext.Request([.. DownloadRequest.ParseVariants("all")]));

        // tiny-clip has no fp16 graphs.
        Assert.Equal([ModelVariant.Fp32, ModelVariant.Quantized], result.Variants);
    }

    [Fact]
    public async Task Download_WithoutTreeApi_FindsTheConventionalNames()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.TreeApi = false;
        var result = await context.DownloadAsync();

        Assert.Contains(result.Files, f => f.Path == VisionModel);
        Assert.Contains(context.Hub.Requests, r => r.Method == "HEAD" && r.Path.EndsWith("/onnx/text_model.onnx_data", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Download_ConnectionCutOnce_ResumesWithARangeFromWhereItStopped()
    {
        await using var context = await HubTestContext.StartAsync();
        const long CutAt = 1_000_000;
        context.Hub.CutOnceAfter[TextModel] = CutAt;

        var result = await context.DownloadAsync();

        var gets = context.Hub.BodyRequests(TextModel).ToList();
        Assert.Equal(2, gets.Count);
        Assert.Null(gets[0].Range);
        Assert.Equal($"bytes={CutAt}-", gets[1].Range);
        var path = Path.Combine(result.Directory, "onnx", "text_model.onnx");
        Assert.Equal(context.Hub.Sha256Of(TextModel), await Sha256Async(path));
        Assert.False(File.Exists(path + ".incomplete"));
    }

    [Fact]
    public async Task Download_InterruptedRun_NextRunResumesThePartialFile()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.CutOnceAfter[TextModel] = 2_000_000;
        var once = HubTestContext.Request() with { MaxAttempts = 1 };

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync(once));
        Assert.Equal(HubFailure.Server, error.Failure);
        Assert.Contains("run the download again to resume", error.Message);
        var partial = Path.Combine(context.ModelDirectory, "onnx", "text_model.onnx.incomplete");
        var kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, 2_000_000);
        Assert.Equal(kept, ModelStore.Inspect(context.ModelDirectory, "Xenova/clip-vit-base-patch32")!.IncompleteBytes);
        Assert.Empty(context.Store.List());

        var result = await context.DownloadAsync(once);

        Assert.Equal($"bytes={kept}-", context.Hub.BodyRequests(TextModel).Last().Range);
        Assert.Equal(context.Hub.Sha256Of(TextModel), result.Files.Single(f => f.Path == TextModel).Sha256);
        Assert.Equal(context.Hub.Sha256Of(TextModel), await Sha256Async(Path.Combine(result.Directory, "onnx", "text_model.onnx")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task Download_ChecksumMismatch_IsCaughtAndTheFileIsNotKept()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.LieSha256[VisionModel] = new string('0', 64);

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync());

        Assert.Equal(HubFailure.Verification, error.Failure);
        Assert.Contains("onnx/vision_model.onnx arrived damaged", error.Message);
        Assert.Contains("deleted", error.Message);
        var onnx = Path.Combine(context.ModelDirectory, "onnx");
        Assert.False(File.Exists(Path.Combine(onnx, "vision_model.onnx")));
        Assert.False(File.Exists(Path.Combine(onnx, "vision_model.onnx.incomplete")));
        Assert.Empty(context.Store.List());
    }

    [Fact]
    public async Task Download_FolderThatDoesNotLoad_IsReportedByName()
    {
        using var broken = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(HubTestContext.TinyClip, "*", SearchOption.AllDirectories))
        {
            var target = broken.File(Path.GetRelativePath(HubTestContext.TinyClip, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        // The Hub serves (and announces the sha256 of) a vision graph that is not ONNX.
        File.SetAttributes(broken.File("onnx", "vision_model.onnx"), FileAttributes.Normal);
        await File.WriteAllTextAsync(broken.File("onnx", "vision_model.onnx"), "not an onnx graph");
        await using var context = await HubTestContext.StartAsync(broken.Path);

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync());

        Assert.Equal(HubFailure.Load, error.Failure);
        Assert.StartsWith($"The fp32 files of Xenova/clip-vit-base-patch32 are in {context.ModelDirectory} but do not load:", error.Message);
        Assert.Contains("vision_model.onnx", error.Message);
    }

    [Fact]
    public async Task Download_NoEndpoint_GivesTheOfflineMessageWithTheManualWay()
    {
        using var home = new TempFolder();
        using var client = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:1" });
        var downloader = new ModelDownloader(client, new ModelStore(home.File("models")));

        var error = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync(HubTestContext.Request()));

        Assert.Equal(HubFailure.Unreachable, error.Failure);
        Assert.StartsWith("Cannot reach the Hugging Face Hub: 127.0.0.1:1 refused the connection.", error.Message);
        Assert.Contains("To install it by hand", error.Message);
        Assert.Contains("onnx/text_model.onnx and onnx/vision_model.onnx", error.Message);
        Assert.Contains(Path.Combine(home.Path, "models", "Xenova", "clip-vit-base-patch32"), error.Message);
        Assert.Contains("HF_ENDPOINT is http://127.0.0.1:1", error.Message);
    }

    [Fact]
    public async Task Download_UnresolvableHost_SaysTheNameDoesNotResolve()
    {
        using var home = new TempFolder();
        using var client = new HubClient(new HubSettings { Endpoint = "http://clipsearch-no-such-host.invalid" });
        var downloader = new ModelDownloader(client, new ModelStore(home.File("models")));

        var error = await Assert.ThrowsAsync<HubException>(() => downloader.DownloadAsync(HubTestContext.Request()));

        Assert.Equal(HubFailure.Unreachable, error.Failure);
        Assert.Contains("clipsearch-no-such-host.invalid", error.Message);
        Assert.Contains("To install it by hand", error.Message);
    }

    [Fact]
    public async Task Download_WithToken_SendsItAsBearerToTheHubOnly()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.RequiredToken = "hf_secret";
        // As on the real Hub, the CDN is another host: the token must not follow the redirect there.
        context.Hub.CdnBase = context.Hub.Endpoint.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        await context.DownloadAsync(token: "hf_secret");

        var hubRequests = context.Hub.Requests.Where(r => !r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        var cdnRequests = context.Hub.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(hubRequests);
        Assert.All(hubRequests, r => Assert.Equal("Bearer hf_secret", r.Authorization));
        Assert.NotEmpty(cdnRequests);
        Assert.All(cdnRequests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Download_PrivateRepoWithoutToken_SaysToSetHfToken()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.RequiredToken = "hf_secret";

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync());

        Assert.Equal(HubFailure.Unauthorized, error.Failure);
        Assert.Contains("HF_TOKEN", error.Message);
        Assert.Contains("To install it by hand", error.Message);
    }

    [Fact]
    public async Task Download_UnknownRevision_SaysSo()
    {
        await using var context = await HubTestContext.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync(HubTestContext.Request() with { Revision = "v9" }));

        Assert.Equal(HubFailure.NotFound, error.Failure);
        Assert.StartsWith("Xenova/clip-vit-base-patch32 has no revision 'v9'", error.Message);
    }

    [Fact]
    public async Task Download_MissingVariant_NamesWhatTheRepositoryHolds()
    {
        await using var context = await HubTestContext.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => context.DownloadAsync(HubTestContext.Request(ModelVariant.Fp16)));

        Assert.Equal(HubFailure.NotFound, error.Failure);
        Assert.Contains("has no fp16 ONNX files", error.Message);
        Assert.Contains("text_model_quantized.onnx", error.Message);
        Assert.Equal((Core.ErrorCodes.HubVariantMissing, "Xenova/clip-vit-base-patch32", "fp16", "main"), (error.Code, error.Arguments[0], error.Arguments[1], error.Arguments[2]));
        Assert.DoesNotContain("--variant", error.Message, StringComparison.Ordinal);
        // The CLI's advice goes after the fact, the manual way to install after that.
        Assert.Equal($"{error.Fact} Choose another --variant.\n{error.Hint}\n{Cli.CliErrors.OwnFolder}", Cli.CliErrors.Describe(error));
        Assert.StartsWith("To install it by hand", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_AgainWhenComplete_FetchesNoBodies()
    {
        await using var context = await HubTestContext.StartAsync();
        await context.DownloadAsync();
        var before = context.Hub.Requests.Count(r => r.Method == "GET");

        var again = await context.DownloadAsync();

        Assert.All(again.Files, f => Assert.True(f.AlreadyPresent, f.Path));
        Assert.Equal(0, again.BytesReceived);
        // Only the tree listing is fetched again.
        Assert.Equal(before + 1, context.Hub.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public async Task Download_ReportsProgressUpToTheTotal()
    {
        await using var context = await HubTestContext.StartAsync();
        var reports = new List<DownloadProgress>();
        var progress = new SynchronousProgress(reports.Add);

        var result = await context.DownloadAsync(progress: progress);

        var total = result.Files.Sum(f => f.Bytes);
        Assert.Equal(DownloadStage.Resolving, reports[0].Stage);
        Assert.Contains(reports, r => r.Stage == DownloadStage.Downloading && r.File == TextModel && r.FileBytesTotal == new FileInfo(Path.Combine(HubTestContext.TinyClip, "onnx", "text_model.onnx")).Length);
        Assert.Contains(reports, r => r.Stage == DownloadStage.Loading);
        var last = reports[^1];
        Assert.Equal(DownloadStage.Done, last.Stage);
        Assert.Equal(total, last.BytesTotal);
        Assert.Equal(total, last.BytesDone);
        Assert.Equal(1.0, last.Fraction);
        Assert.Equal(total, result.BytesReceived);
    }

    private static async Task<string> Sha256Async(string path) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path)));

    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
