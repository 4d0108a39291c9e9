using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Api;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ClipSearch.Web.Tests;

/// <summary>
/// What a person does, in headless Chromium against the host as <c>clipsearch serve</c> builds it; screenshots go
/// to artifacts/screenshots/.
/// </summary>
public sealed class BrowserTests(BrowserServer server) : IClassFixture<BrowserServer>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // In a real browser: the OpenAPI page works and its requests (same origin) pass; another site's page
    // (localhost is another site than 127.0.0.1) sending the "simple" POST that needs no preflight changes nothing.
    [Fact]
    public async Task ApiPageAndCrossSiteFetch_OnlyTheSameOriginChangesAnything()
    {
        if (!server.Host.IsLoaded)
        {
            await server.Host.LoadAsync(TinyClip.ModelPath, null, 1);
        }

        var page = await server.NewPageAsync();
        await page.GotoAsync("/scalar");
        await Expect(page.GetByText("ClipSearch API").First).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(page, "00-api-reference");

        var other = await server.NewPageAsync();
        await other.GotoAsync($"http://localhost:{new Uri(server.BaseUrl).Port}/health");
        await other.EvaluateAsync(
            $"() => fetch('{server.BaseUrl}/api/model/unload', {{ method: 'POST', mode: 'no-cors', headers: {{ 'Content-Type': 'text/plain' }}, body: 'x' }}).catch(() => null)");
        Assert.True(server.Host.IsLoaded);

        var status = await page.EvaluateAsync<int>("async () => (await fetch('/api/model/unload', { method: 'POST' })).status");
        Assert.Equal(200, status);
        Assert.False(server.Host.IsLoaded);
        await server.Host.LoadAsync(TinyClip.ModelPath, null, 1);
    }

    [Fact]
    public async Task ModelTab_NoModelThenLoad_ShowsHowToGetOneThenTheModel()
    {
        server.Host.Unload();
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/match");
        await Expect(page.GetByTestId("no-model")).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(page, "01-no-model");

        await page.GetByTestId("tab-model").ClickAsync();
        await Expect(page.GetByTestId("model-threads")).ToHaveValueAsync("1");   // ClipSearch:Threads, not one per core
        await page.GetByTestId("model-path").FillAsync("/no/such/model");
        await page.GetByTestId("load").ClickAsync();
        await Expect(page.GetByTestId("load-error")).ToContainTextAsync("/no/such/model");
        await BrowserServer.ScreenshotAsync(page, "02-model-load-error");

        await page.GetByTestId("model-path").FillAsync(TinyClip.ModelPath);
        await page.GetByTestId("model-variant").SelectOptionAsync("fp32");
        await page.GetByTestId("load").ClickAsync();
        await Expect(page.GetByTestId("model-state")).ToHaveTextAsync("Loaded");
        await Expect(page.GetByTestId("load-ok")).ToContainTextAsync("tiny-clip");
        await Expect(page.GetByTestId("model-pill")).ToContainTextAsync("tiny-clip");
        await BrowserServer.ScreenshotAsync(page, "03-model-loaded");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task NoModelPanel_Download_ShowsProgressThenLoadsTheModel()
    {
        server.Host.Unload();
        server.Hub.HoldBodies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chinese = await server.NewPageAsync("zh-CN");
        await BrowserServer.GoAsync(chinese, "/model");
        await Expect(chinese.GetByTestId("no-model")).ToContainTextAsync("下载 CLIP ViT-B/32（Xenova/clip-vit-base-patch32）");
        await BrowserServer.ScreenshotAsync(chinese, "13-zh-download-panel");
        await chinese.Context.CloseAsync();

        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/classify");
        await Expect(page.GetByTestId("no-model")).ToContainTextAsync("Download CLIP ViT-B/32 (Xenova/clip-vit-base-patch32)");
        await page.GetByTestId("download-variant").SelectOptionAsync("quantized");
        await page.GetByTestId("download-start").ClickAsync();

        // The fake Hub holds the file bodies: the panel shows the running download and its first file.
        await Expect(page.GetByTestId("download-panel")).ToHaveAttributeAsync("data-state", "running");
        await Expect(page.GetByTestId("download-progress")).ToContainTextAsync("file 1 of");
        await Expect(page.GetByTestId("download-cancel")).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(page, "14-download-progress");

        server.Hub.HoldBodies.SetResult();
        await Expect(page.GetByTestId("model-pill")).ToContainTextAsync("clip-vit-base-patch32 · quantized", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("no-model")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("classify-run")).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(page, "15-download-loaded");
        Assert.Equal("quantized", server.Host.Status.Info!.Variant);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task MatchTab_ImagesAndTexts_HeatmapEqualsTheApi()
    {
        await EnsureModelAsync();
        string[] images = [TinyClip.Image("horse.png"), TinyClip.Image("astronaut.png"), TinyClip.Image("coffee.png")];
        string[] texts = ["a photo of a horse", "an astronaut in space", "a cup of coffee", "a diagram"];
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/match");
        await page.SetInputFilesAsync("#match-images", images);
        await Expect(page.Locator(".thumb")).ToHaveCountAsync(3);
        await page.GetByTestId("match-texts").FillAsync(string.Join("\n", texts));
        await page.GetByTestId("match-run").ClickAsync();
        await Expect(page.GetByTestId("cell")).ToHaveCountAsync(images.Length * texts.Length);
        await Expect(page.Locator("td.best")).ToHaveCountAsync(images.Length);
        await BrowserServer.ScreenshotAsync(page, "04-match-heatmap");

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        using var response = await http.PostAsync("/api/match", TinyClip.Form(images, texts));
        var api = (await response.Content.ReadFromJsonAsync<MatchResponse>(Json))!;
        Assert.Equal(api.Cosine, await ReadHeatmapAsync(page, images.Length, texts.Length));

        await page.GetByTestId("metric-probs").ClickAsync();
        await Expect(page.GetByTestId("heatmap")).ToHaveAttributeAsync("data-metric", "probs");
        Assert.Equal(api.Probs, await ReadHeatmapAsync(page, images.Length, texts.Length));

        await page.GetByTestId("metric-cosine").ClickAsync();
        await page.GetByTestId("show-crops").CheckAsync();
        await Expect(page.Locator(".col-head img.crop")).ToHaveCountAsync(3);
        await BrowserServer.ScreenshotAsync(page, "05-match-model-view");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task MatchTab_PasteAnImage_AddsIt()
    {
        await EnsureModelAsync();
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/match");
        await page.EvaluateAsync("""
            async () => {
              const canvas = document.createElement('canvas');
              canvas.width = 64; canvas.height = 48;
              const g = canvas.getContext('2d'); g.fillStyle = '#e11d48'; g.fillRect(0, 0, 64, 48);
              const blob = await new Promise(r => canvas.toBlob(r, 'image/png'));
              const data = new DataTransfer();
              data.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
              document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data }));
            }
            """);
        await Expect(page.Locator(".thumb figcaption")).ToHaveTextAsync("pasted.png");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ClassifyTab_Preset_ShowsTheApisTopLabels()
    {
        await EnsureModelAsync();
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/classify");
        await page.SetInputFilesAsync("#classify-image", TinyClip.Image("horse.png"));
        await Expect(page.Locator(".preview img")).ToBeVisibleAsync();
        await page.GetByTestId("classify-preset").SelectOptionAsync("cifar10");
        await page.GetByTestId("classify-run").ClickAsync();
        await Expect(page.GetByTestId("bar")).ToHaveCountAsync(5);
        await BrowserServer.ScreenshotAsync(page, "06-classify-preset");

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        var form = TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image");
        form.Add(new StringContent("cifar10"), "preset");
        var api = (await (await http.PostAsync("/api/classify", form)).Content.ReadFromJsonAsync<ClassifyResponse>(Json))!;
        var bars = page.GetByTestId("bar");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(api.Labels[i].Label, await bars.Nth(i).GetAttributeAsync("data-label"));
            Assert.Equal(api.Labels[i].Probability, float.Parse((await bars.Nth(i).GetAttributeAsync("data-probability"))!, CultureInfo.InvariantCulture));
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ClassifyTab_ImageNet_ShowsPromptProgressThenUsesTheCache()
    {
        await EnsureModelAsync();
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/classify");
        await page.SetInputFilesAsync("#classify-image", TinyClip.Image("horse.png"));
        await Expect(page.Locator(".preview img")).ToBeVisibleAsync();
        await page.GetByTestId("classify-preset").SelectOptionAsync("imagenet");
        // By default the 7 templates of CLIP's notebook; the checkbox (with its cost beside it) takes all 80.
        await Expect(page.GetByTestId("classify-templates-used")).ToHaveAttributeAsync("data-count", "7");
        await Expect(page.GetByTestId("classify-cost")).ToContainTextAsync("7,000 prompts");
        await page.GetByTestId("classify-all-templates").CheckAsync();
        await Expect(page.GetByTestId("classify-templates-used")).ToHaveAttributeAsync("data-count", "80");
        await page.GetByTestId("classify-run").ClickAsync();

        // 1,000 class names × 80 templates: seconds even on tiny-clip, reported after every 256 prompts. On a
        // busy machine the run can end between two polls, so the progress panel is checked only when it was caught.
        var progress = page.GetByTestId("classify-progress");
        var meta = page.GetByTestId("classify-meta");
        await Expect(progress.Or(meta)).ToBeVisibleAsync(new() { Timeout = 60_000 });
        if (await progress.CountAsync() > 0)
        {
            try
            {
                Assert.Equal("80000", await progress.GetAttributeAsync("data-total", new() { Timeout = 2_000 }));
                await BrowserServer.ScreenshotAsync(page, "17-classify-imagenet-progress");
            }
            catch (TimeoutException)
            {
                // the panel closed while being read: the run finished
            }
        }

        await Expect(meta).ToHaveAttributeAsync("data-source", "computed", new() { Timeout = 120_000 });
        await Expect(progress).ToHaveCountAsync(0);

        await page.GetByTestId("classify-run").ClickAsync();
        await Expect(page.GetByTestId("classify-meta")).ToHaveAttributeAsync("data-source", "memory");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SearchTab_AddSearchOpenMoreLikeThis()
    {
        await EnsureModelAsync();
        var page = await server.NewPageAsync();
        await BrowserServer.GoAsync(page, "/search");
        await BrowserServer.ScreenshotAsync(page, "07-search-empty");
        string[] files = ["horse.png", "astronaut.png", "coffee.png", "camera.png", "chelsea.png", "motorcycle_right.png", "page.png"];
        await page.SetInputFilesAsync("#library-images", files.Select(TinyClip.Image));
        await Expect(page.GetByTestId("library-count")).ToHaveTextAsync(files.Length.ToString(CultureInfo.InvariantCulture));

        await page.GetByTestId("search-text").FillAsync("a horse in a field");
        await page.GetByTestId("search-run").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(files.Length);
        await WaitForImagesAsync(page);
        await BrowserServer.ScreenshotAsync(page, "08-search-results");

        var first = page.GetByTestId("result").First;
        var id = await first.GetAttributeAsync("data-id");
        await first.ClickAsync();
        await Expect(page.GetByTestId("viewer")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=viewer-image]').naturalWidth > 0");
        await BrowserServer.ScreenshotAsync(page, "09-search-viewer");

        await page.GetByTestId("more-like-this").ClickAsync();
        await Expect(page.GetByTestId("viewer")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(files.Length - 1);
        Assert.DoesNotContain(id, await page.GetByTestId("result").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.id)"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task MatchTab_ChineseUi_ShowsCommonErrorsInChinese()
    {
        await EnsureModelAsync();
        using var folder = new TempFolder();
        var notImage = folder.File("notes.png");
        await File.WriteAllTextAsync(notImage, "these are notes, not a picture");
        var page = await server.NewPageAsync("zh-CN");
        await BrowserServer.GoAsync(page, "/match");

        await page.SetInputFilesAsync("#match-images", [notImage]);
        await Expect(page.GetByTestId("match-error")).ToContainTextAsync("无法使用这张图片：它不是图片");
        await Expect(page.GetByTestId("match-error")).ToContainTextAsync("notes.png");

        await page.SetInputFilesAsync("#match-images", [TinyClip.Image("horse.png")]);
        await Expect(page.Locator(".thumb")).ToHaveCountAsync(1);
        await page.GetByTestId("match-texts").FillAsync("");
        await page.GetByTestId("match-run").ClickAsync();
        await Expect(page.GetByTestId("match-error")).ToHaveTextAsync("没有文本：请至少输入一条文本（每行一条）。");
        await BrowserServer.ScreenshotAsync(page, "16-zh-error-no-text");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Language_SwitchAndAcceptLanguage_ShowChineseAndTheScriptNote()
    {
        await EnsureModelAsync();
        var page = await server.NewPageAsync("en-US");
        await BrowserServer.GoAsync(page, "/search");
        await Expect(page.GetByTestId("tab-match")).ToHaveTextAsync("Image–text match");
        await page.GetByTestId("lang-zh").ClickAsync();
        await Expect(page.GetByTestId("tab-match")).ToHaveTextAsync("图文匹配");
        await BrowserServer.WaitInteractiveAsync(page);
        Assert.EndsWith("/search", page.Url, StringComparison.Ordinal);
        await page.GetByTestId("search-text").FillAsync("一只在雪地里玩耍的狗");
        await Expect(page.GetByTestId("script-note")).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(page, "10-zh-search-note");
        await page.GetByTestId("lang-en").ClickAsync();
        await Expect(page.GetByTestId("tab-match")).ToHaveTextAsync("Image–text match");
        await page.Context.CloseAsync();

        var chinese = await server.NewPageAsync("zh-CN");
        await BrowserServer.GoAsync(chinese, "/model");
        await Expect(chinese.Locator("h1")).ToHaveTextAsync("模型");
        await BrowserServer.ScreenshotAsync(chinese, "11-zh-model");
        await BrowserServer.GoAsync(chinese, "/info");
        await Expect(chinese.GetByTestId("info-encoders")).ToBeVisibleAsync();
        await BrowserServer.ScreenshotAsync(chinese, "12-zh-info");
        await chinese.Context.CloseAsync();
    }

    private async Task EnsureModelAsync()
    {
        if (!server.Host.IsLoaded)
        {
            await server.Host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        }
    }

    private static async Task<float[][]> ReadHeatmapAsync(IPage page, int images, int texts)
    {
        var cells = await page.GetByTestId("cell").EvaluateAllAsync<string[][]>("els => els.map(e => [e.dataset.image, e.dataset.text, e.dataset.value])");
        var matrix = Enumerable.Range(0, images).Select(_ => new float[texts]).ToArray();
        foreach (var cell in cells)
        {
            matrix[int.Parse(cell[0], CultureInfo.InvariantCulture)][int.Parse(cell[1], CultureInfo.InvariantCulture)] = float.Parse(cell[2], CultureInfo.InvariantCulture);
        }

        return matrix;
    }

    private static Task WaitForImagesAsync(IPage page) =>
        page.WaitForFunctionAsync("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)");
}
