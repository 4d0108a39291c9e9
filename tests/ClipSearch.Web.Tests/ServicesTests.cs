using ClipSearch.Core;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Services;
using Microsoft.Extensions.DependencyInjection;
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
        Assert.True(UiStrings.English.Count > 150, $"{UiStrings.English.Count} English strings");
        Assert.Equal(UiStrings.English.Keys.Order(StringComparer.Ordinal), UiStrings.Chinese.Keys.Order(StringComparer.Ordinal));
        Assert.All(UiStrings.Chinese.Values, v => Assert.False(string.IsNullOrWhiteSpace(v)));
    }

    [Fact]
    public void Ui_ThroughTheLocalizer_ReadsEachLanguageAndShowsAMissingKeyAsItself()
    {
        var culture = System.Globalization.CultureInfo.CurrentUICulture;
        try
        {
            System.Globalization.CultureInfo.CurrentUICulture = new System.Globalization.CultureInfo("zh-CN");
            var chinese = UiStrings.Create();
            Assert.Equal(("图库", true, "zh-CN", "no.such.key"), (chinese["tab.library"], chinese.IsChinese, chinese.Language, chinese["no.such.key"]));
            Assert.Equal("a photo of a cat\na photo of a dog", chinese["match.texts.placeholder"]);
            System.Globalization.CultureInfo.CurrentUICulture = new System.Globalization.CultureInfo("en");
            var english = UiStrings.Create();
            Assert.Equal(("Library", false, "en"), (english["tab.library"], english.IsChinese, english.Language));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentUICulture = culture;
        }
    }

    public static TheoryData<Exception, string> ChineseErrors() => new()
    {
        { new ModelNotLoadedException(), "尚未加载模型：请在“模型”页下载 CLIP ViT-B/32，或加载一个模型文件夹。" },
        { new ClipSearchException(WebErrorCodes.NoImage, "No image: …"), "没有图片：请至少添加一张图片（JPEG、PNG、WebP、GIF 或 BMP）。" },
        { new ClipSearchException(WebErrorCodes.NoText, "No text: …"), "没有文本：请至少输入一条文本（每行一条）。" },
        { new ClipSearchException(WebErrorCodes.TooManyLabels, "3 labels is too many …", [3, 2]), "类别太多：一次最多 2 个，当前有 3 个。" },
        { new ClipSearchException(WebErrorCodes.TooLarge, "big.jpg is 60 MB; …", ["big.jpg", "60 MB", "50 MB"]), "big.jpg 的大小为 60 MB，超过了单张图片 50 MB 的限制。" },
        { new ImageLoadException("notes.png is not an image (JPEG, PNG, WebP, GIF or BMP)."), "无法使用这张图片：它不是图片，或文件已损坏、格式不受支持（支持 JPEG、PNG、WebP、GIF、BMP）。详情：notes.png is not an image (JPEG, PNG, WebP, GIF or BMP)." },
        { new ClipSearchException("k must be between 1 and 200, not 0."), "出错了：k must be between 1 and 200, not 0." },
    };

    [Theory]
    [MemberData(nameof(ChineseErrors))]
    public void UiError_Chinese_SaysItInChinese(Exception error, string expected)
    {
        var culture = System.Globalization.CultureInfo.CurrentUICulture;
        try
        {
            System.Globalization.CultureInfo.CurrentUICulture = new System.Globalization.CultureInfo("zh-CN");
            Assert.Equal(expected, UiStrings.Create().Error(error));
            System.Globalization.CultureInfo.CurrentUICulture = new System.Globalization.CultureInfo("en");
            Assert.Equal(error.Message, UiStrings.Create().Error(error));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentUICulture = culture;
        }
    }

    [Fact]
    public async Task Match_NoTexts_EnglishMessageWithItsCode()
    {
        using var server = TinyClip.Server(loaded: false);
        var clip = server.Services.GetRequiredService<ClipService>();
        var e = await Assert.ThrowsAsync<ClipSearchException>(() => clip.MatchAsync([new Upload("a.png", [1])], [" "], CancellationToken.None));
        Assert.Equal("no-text", e.Code);
        Assert.StartsWith("No text", e.Message);
        Assert.True(UiStrings.Chinese.ContainsKey($"error.{e.Code}"));
    }

    [Fact]
    public void Presets_ImageNetDefault_IsTheNotebooksSevenTemplatesThatTheDocsName()
    {
        // openai/CLIP, notebooks/Prompt_Engineering_for_ImageNet.ipynb: the 7 of the 80 kept by sequential forward selection.
        string[] notebook = ["itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.", "a {} in a video game.", "art of the {}.", "a photo of the small {}."];
        var imagenet = ZeroShotPresets.Get("imagenet");
        Assert.Equal(notebook, imagenet.DefaultTemplates);
        Assert.Equal(notebook, imagenet.TemplatesOf(TemplateSet.Default));
        Assert.Equal(80, imagenet.TemplatesOf(TemplateSet.All).Count);
        Assert.Contains("Prompt_Engineering_for_ImageNet.ipynb", imagenet.DefaultTemplatesSource);
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "decisions.md"));
        Assert.All(notebook, t => Assert.Contains($"`{t}`", docs, StringComparison.Ordinal));
        // Every other preset uses all of the paper's templates by default.
        Assert.All(ZeroShotPresets.All.Values.Where(p => p.Name != "imagenet"), p => Assert.Equal(p.Templates, p.DefaultTemplates));
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "ClipSearch.slnx")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("ClipSearch.slnx not found above the test's folder.");
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

public sealed class AppFoldersTests
{
    [Fact]
    public void Home_IsLaidOutAsClipSearchHomeSays()
    {
        // One place knows the folders: the server's, the CLI's model store and the default library agree.
        var root = Path.Combine(Path.GetTempPath(), "clipsearch-home");
        var folders = new AppFolders(Options.Create(new ClipSearchOptions { Home = root }));
        var home = ClipSearchHome.At(root);

        Assert.Equal((home.Models, home.Cache, home.Keys), (folders.Store.Root, folders.Cache, folders.Keys));
        Assert.Equal(
            (Path.Combine(root, "models"), Path.Combine(root, "cache"), Path.Combine(root, "keys"), Path.Combine(root, "library.db")),
            (home.Models, home.Cache, home.Keys, home.Library));
        var fromEnvironment = new AppFolders(Options.Create(new ClipSearchOptions()));
        Assert.Equal(Path.GetFullPath(ClipSearchHome.FromEnvironment().Models), fromEnvironment.Store.Root);
        Assert.Equal(Hub.ModelStore.FromEnvironment().Root, fromEnvironment.Store.Root);
        Assert.Equal(Path.GetDirectoryName(fromEnvironment.Store.Root), Path.GetDirectoryName(fromEnvironment.Cache));
        Assert.Equal(ClipSearchHome.FromEnvironment().Library, Library.Storage.LibraryLocation.DefaultPath());
    }
}

public sealed class ThumbnailsTests
{
    [Fact]
    public void Thumbnail_Landscape_FitsTheLongSide()
    {
        using var thumbnail = SkiaSharp.SKBitmap.Decode(Core.Imaging.Thumbnails.Make(File.ReadAllBytes(TinyClip.Image("gradient_640x480.png")), "g.png"));
        Assert.Equal((Core.Imaging.Thumbnails.Side, 240), (thumbnail.Width, thumbnail.Height));
    }

    [Fact]
    public void Thumbnail_ExifOrientation6_IsUpright()
    {
        var bytes = File.ReadAllBytes(TinyClip.Image("exif_orientation6.jpg"));
        using var codec = SkiaSharp.SKCodec.Create(new SkiaSharp.SKMemoryStream(bytes));
        using var thumbnail = SkiaSharp.SKBitmap.Decode(Core.Imaging.Thumbnails.Make(bytes, "e.jpg"));
        // Stored sideways: the thumbnail swaps the stored width and height...
        Assert.NotEqual(codec.Info.Width, codec.Info.Height);
        Assert.Equal(codec.Info.Width > codec.Info.Height, thumbnail.Height > thumbnail.Width);

        // ...and is turned the right way: its centre looks like the reference crop with EXIF applied, not the raw one.
        var upright = Distance(thumbnail, Fixtures.Path("crops224", "exif_orientation6_transposed.png"));
        var raw = Distance(thumbnail, Fixtures.Path("crops224", "exif_orientation6.png"));
        Assert.True(upright < raw / 2, $"distance to upright {upright}, to raw {raw}");
    }

    // Mean absolute difference of the thumbnail's centre square, scaled to 224×224, and a reference crop.
    private static double Distance(SkiaSharp.SKBitmap thumbnail, string referencePath)
    {
        using var reference = SkiaSharp.SKBitmap.Decode(referencePath);
        var side = Math.Min(thumbnail.Width, thumbnail.Height);
        using var centre = new SkiaSharp.SKBitmap(side, side);
        thumbnail.ExtractSubset(centre, SkiaSharp.SKRectI.Create((thumbnail.Width - side) / 2, (thumbnail.Height - side) / 2, side, side));
        using var scaled = centre.Resize(new SkiaSharp.SKImageInfo(reference.Width, reference.Height), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear));
        double total = 0;
        for (var y = 0; y < reference.Height; y++)
        {
            for (var x = 0; x < reference.Width; x++)
            {
                var a = scaled.GetPixel(x, y);
                var b = reference.GetPixel(x, y);
                total += Math.Abs(a.Red - b.Red) + Math.Abs(a.Green - b.Green) + Math.Abs(a.Blue - b.Blue);
            }
        }

        return total / (3.0 * reference.Width * reference.Height);
    }

    [Fact]
    public void ContentType_IsSniffedNotTakenFromTheName()
    {
        // One sniffer: an upload's type, and the type a thumbnail is sent with, are what its bytes say.
        var png = File.ReadAllBytes(TinyClip.Image("gradient_640x480.png"));
        Assert.Equal("image/png", new Upload("photo.jpg", png).ContentType());
        var thumbnail = Core.Imaging.Thumbnails.Make(png, "g.png");
        Assert.Equal("image/jpeg", Core.Imaging.Thumbnails.ContentTypeOf(thumbnail));   // opaque: a JPEG

        // A HEIC named .jpg is a HEIC, and a JPEG named .heic a JPEG.
        var heic = File.ReadAllBytes(Fixtures.Path("formats", "images", "chelsea.heic"));
        Assert.Equal("image/heic", new Upload("photo.jpg", heic).ContentType());
        Assert.Equal("image/jpeg", new Upload("photo.heic", File.ReadAllBytes(TinyClip.Image("exif_orientation6.jpg"))).ContentType());
    }

    [Fact]
    public void ContentType_NotAnImage_ThrowsNamingIt()
    {
        var e = Assert.Throws<Core.ImageLoadException>(() => new Upload("notes.txt", "hello"u8.ToArray()).ContentType());
        Assert.Contains("notes.txt", e.Message);
    }
}

public sealed class BackgroundJobTests
{
    private sealed record State(string Phase, string? Error = null);

    [Fact]
    public async Task OneRunAtATime_StopEndsCancelled_FailureEndsInTheState()
    {
        // Indexing runs and model downloads share this: 409 while one runs, Stop, errors in the state, events.
        using var job = new BackgroundJob<State>(new State("idle"));
        var changes = 0;
        job.Changed += () => Interlocked.Increment(ref changes);
        var release = new TaskCompletionSource();

        Assert.True(job.TryStart(() => new State("running"), async token =>
        {
            await release.Task.WaitAsync(token);
            return s => s with { Phase = "done" };
        }, s => s with { Phase = "stopped" }, (s, e) => s with { Phase = "failed", Error = e.Message }));
        Assert.Equal("running", job.State.Phase);
        Assert.False(job.TryStart(() => throw new InvalidOperationException("must not be called"), _ => throw new InvalidOperationException(), s => s, (s, _) => s));
        Assert.True(job.Stop());
        await job.WaitAsync();
        Assert.Equal(("stopped", false), (job.State.Phase, job.IsRunning));
        Assert.False(job.Stop());

        Assert.True(job.TryStart(() => new State("running"), _ => throw new IOException("disk full"), s => s with { Phase = "stopped" }, (s, e) => s with { Phase = "failed", Error = e.Message }));
        await job.WaitAsync();
        Assert.Equal(new State("failed", "disk full"), job.State);

        Assert.True(job.TryStart(() => new State("running"), _ => Task.FromResult<Func<State, State>>(s => s with { Phase = "done" }), s => s, (s, _) => s));
        await job.WaitAsync();
        Assert.Equal("done", job.State.Phase);
        Assert.Equal(6, changes);   // each start and each end
    }
}
