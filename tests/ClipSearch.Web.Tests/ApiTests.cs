using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Api;
using SkiaSharp;

namespace ClipSearch.Web.Tests;

/// <summary>Every endpoint and its errors, in memory, on tiny-clip.</summary>
public sealed class ApiTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server = TinyClip.Server();
    private readonly HttpClient _client;

    public ApiTests() => _client = _server.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task Health_Loaded_SaysOkAndLoaded()
    {
        var health = await _client.GetFromJsonAsync<HealthResponse>("/health", Json);
        Assert.Equal(new HealthResponse("ok", "loaded"), health);
    }

    [Fact]
    public async Task GetModel_Loaded_DescribesTinyClip()
    {
        using var doc = JsonDocument.Parse(await _client.GetStringAsync("/api/model"));
        Assert.Equal("loaded", doc.RootElement.GetProperty("state").GetString());
        var info = doc.RootElement.GetProperty("info");
        Assert.Equal(16, info.GetProperty("projectionDim").GetInt32());
        Assert.Equal("fp32", info.GetProperty("variant").GetString());
        Assert.True(doc.RootElement.GetProperty("workingSetBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task Match_TwoImagesThreeTexts_EqualsMatchResultCompute()
    {
        string[] images = [TinyClip.Image("horse.png"), TinyClip.Image("gradient_640x480.png")];
        string[] texts = ["a photo of a horse", "a gradient", "a diagram of a cat"];
        using var response = await _client.PostAsync("/api/match", TinyClip.Form(images, texts));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var match = (await response.Content.ReadFromJsonAsync<MatchResponse>(Json))!;

        using var model = ClipModel.Load(TinyClip.ModelPath, new ModelOptions { Threads = 1 });
        var crops = images.Select(p => ImageLoader.LoadCrop(p, model.Preprocess, new ImageLoadOptions())).ToArray();
        var expected = MatchResult.Compute(model.EmbedImages(crops), model.EmbedTexts(texts), model.LogitScale.Value);

        Assert.Equal(["horse.png", "gradient_640x480.png"], match.Images);
        Assert.Equal(texts, match.Texts);
        for (var i = 0; i < images.Length; i++)
        {
            for (var t = 0; t < texts.Length; t++)
            {
                Assert.Equal(expected.Cosine[i][t], match.Cosine[i][t], 1e-6f);
                Assert.Equal(expected.Logits[i][t], match.Logits[i][t], 1e-4f);
                Assert.Equal(expected.Probabilities[i][t], match.Probs[i][t], 1e-6f);
            }
        }
    }

    [Fact]
    public async Task Match_TextsAsLines_SplitsLines()
    {
        using var response = await _client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a horse\n\n a cat \n"]));
        var match = (await response.Content.ReadFromJsonAsync<MatchResponse>(Json))!;
        Assert.Equal(["a horse", "a cat"], match.Texts);
    }

    [Fact]
    public async Task Match_NonImageUpload_Returns400NamingTheFile()
    {
        var form = TinyClip.Form([], ["a cat"]);
        form.Add(new ByteArrayContent("not an image at all"u8.ToArray()), "images", "notes.txt");
        var problem = await ProblemAsync(await _client.PostAsync("/api/match", form), HttpStatusCode.BadRequest);
        Assert.Contains("notes.txt", problem.Detail);
    }

    [Fact]
    public async Task Match_NoTexts_Returns400()
    {
        var problem = await ProblemAsync(await _client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], [])), HttpStatusCode.BadRequest);
        Assert.Contains("No text", problem.Detail);
    }

    [Fact]
    public async Task Match_NoImages_Returns400()
    {
        var problem = await ProblemAsync(await _client.PostAsync("/api/match", TinyClip.Form([], ["a cat"])), HttpStatusCode.BadRequest);
        Assert.Contains("No image", problem.Detail);
    }

    [Fact]
    public async Task Match_NotMultipart_Returns415Problem()
    {
        using var response = await _client.PostAsJsonAsync("/api/match", new { texts = new[] { "a" } });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Match_OversizeImage_Returns400WithTheLimit()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", "10000"));
        using var client = server.CreateClient();
        var problem = await ProblemAsync(await client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("astronaut.png")], ["a"])), HttpStatusCode.BadRequest);
        Assert.Contains("astronaut.png", problem.Detail);
        Assert.Contains("limit", problem.Detail);
    }

    [Fact]
    public async Task Match_TooManyImages_Returns400()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImagesPerRequest", "1"));
        using var client = server.CreateClient();
        var problem = await ProblemAsync(await client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png"), TinyClip.Image("horse.png")], ["a"])), HttpStatusCode.BadRequest);
        Assert.Contains("at most 1", problem.Detail);
    }

    [Fact]
    public async Task Embed_ImageAndText_ReturnsTheModelsUnitVectors()
    {
        using var response = await _client.PostAsync("/api/embed", TinyClip.Form([TinyClip.Image("horse.png")], ["a horse"]));
        var embed = (await response.Content.ReadFromJsonAsync<EmbedResponse>(Json))!;
        using var model = ClipModel.Load(TinyClip.ModelPath, new ModelOptions { Threads = 1 });
        Assert.Equal(16, embed.Dim);
        Assert.Equal("horse.png", embed.Images[0].Name);
        Assert.Equal(1f, Vectors.Norm(embed.Images[0].Embedding), 1e-5f);
        var expected = model.EmbedText("a horse");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], embed.Texts[0].Embedding[i], 1e-6f);
        }
    }

    [Fact]
    public async Task Embed_Nothing_Returns400()
    {
        await ProblemAsync(await _client.PostAsync("/api/embed", TinyClip.Form([], [])), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Classify_Preset_RanksLikeTheClassifier()
    {
        var form = TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image");
        form.Add(new StringContent("cifar10"), "preset");
        form.Add(new StringContent("10"), "k");
        using var response = await _client.PostAsync("/api/classify", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<ClassifyResponse>(Json))!;

        using var model = ClipModel.Load(TinyClip.ModelPath, new ModelOptions { Threads = 1 });
        var preset = ZeroShotPresets.Get("cifar10");
        var image = model.EmbedImages([ImageLoader.LoadCrop(TinyClip.Image("horse.png"), model.Preprocess, new ImageLoadOptions())])[0];
        var expected = new ZeroShotClassifier(model).Classify(image, preset.Classes, preset.Templates);

        Assert.Equal(10, result.LabelCount);
        Assert.Equal(18, result.TemplateCount);
        Assert.Equal(TemplateSet.Default, result.TemplateSet);
        Assert.Equal(expected.Select(e => e.Label), result.Labels.Select(l => l.Label));
        Assert.Equal(1f, result.Labels.Sum(l => l.Probability), 1e-5f);
        Assert.Equal(expected[0].Probability, result.Labels[0].Probability, 1e-5f);
    }

    [Fact]
    public async Task Classify_OwnLabels_TopKOfThem()
    {
        var form = TinyClip.Form([TinyClip.Image("horse.png")], ["horse\ncat\ndog"], imageField: "image", textField: "labels");
        form.Add(new StringContent("2"), "k");
        var result = (await (await _client.PostAsync("/api/classify", form)).Content.ReadFromJsonAsync<ClassifyResponse>(Json))!;
        Assert.Equal(2, result.Labels.Count);
        Assert.Equal(3, result.LabelCount);
        Assert.Equal(1, result.TemplateCount);
    }

    [Theory]
    [InlineData("preset", "no-such-set", "Unknown preset")]
    [InlineData("templates", "a photo", "has no {}")]
    [InlineData("k", "many", "whole number")]
    public async Task Classify_BadField_Returns400(string field, string value, string message)
    {
        var form = TinyClip.Form([TinyClip.Image("horse.png")], ["cat"], imageField: "image", textField: "labels");
        form.Add(new StringContent(value), field);
        var problem = await ProblemAsync(await _client.PostAsync("/api/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains(message, problem.Detail);
    }

    [Fact]
    public async Task Classify_TooManyLabels_Returns400WithTheLimit()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxTextsPerRequest", "2"));
        using var client = server.CreateClient();
        var form = TinyClip.Form([TinyClip.Image("horse.png")], ["horse\ncat\ndog"], imageField: "image", textField: "labels");
        var problem = await ProblemAsync(await client.PostAsync("/api/classify", form), HttpStatusCode.BadRequest);
        Assert.Equal("3 labels is too many for one request: at most 2.", problem.Detail);
    }

    [Fact]
    public async Task Classify_NoLabels_Returns400()
    {
        var problem = await ProblemAsync(await _client.PostAsync("/api/classify", TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image")), HttpStatusCode.BadRequest);
        Assert.Contains("No labels", problem.Detail);
    }

    [Fact]
    public async Task Presets_ListsTheBuiltInSets()
    {
        var presets = (await _client.GetFromJsonAsync<PresetSummary[]>("/api/classify/presets", Json))!;
        var imagenet = Assert.Single(presets, p => p.Name == "imagenet");
        Assert.Equal((1000, 7, 80, 7000, 80_000), (imagenet.Classes, imagenet.Templates, imagenet.AllTemplates, imagenet.Prompts, imagenet.AllPrompts));
        Assert.Equal(ZeroShotPresets.Get("imagenet").DefaultTemplates, imagenet.DefaultTemplates);
        Assert.Contains(presets, p => p is { Name: "cifar100", Classes: 100, Templates: 18, AllTemplates: 18 });
        // The rate is measured on the loaded model (tiny-clip) and every cold preset's estimate comes from it.
        Assert.All(presets, p => Assert.NotNull(p.PromptsPerSecond));
        Assert.All(presets.Where(p => !p.Cached), p => Assert.Equal(Math.Round(p.Prompts / p.PromptsPerSecond!.Value, 1), p.EstimatedSeconds!.Value, 1));
    }

    [Fact]
    public async Task Images_HeicTiffAndRawUploads_ServedAsJpegThumbnailsAndViews_PngWhereThereIsAlpha()
    {
        // Browsers cannot show HEIC, TIFF or raw files: the server sends JPEGs made from them (a PNG keeps alpha).
        var heic = Fixtures.Path("formats", "images", "chelsea.heic");                 // 451 × 300
        var tiff = Fixtures.Path("formats", "images", "camera_orient6.tif");           // 512 × 512, orientation 6
        var alpha = Fixtures.Path("formats", "images", "rgba_256x256.heic");
        var added = (await (await _client.PostAsync("/api/images", TinyClip.Form([heic, tiff, alpha], []))).Content
            .ReadFromJsonAsync<ImageResponse[]>(Json))!;
        Assert.Equal(3, added.Length);

        var (thumbnail, thumbnailType) = await GetImageAsync(added[0].ThumbnailUrl);
        Assert.Equal(("image/jpeg", 320, 213), (thumbnailType, thumbnail.Width, thumbnail.Height));
        var (view, viewType) = await GetImageAsync(added[0].ImageUrl);
        Assert.Equal(("image/jpeg", 451, 300), (viewType, view.Width, view.Height));

        // The TIFF's view is upright: the file's top row (bright sky) is its right column once turned 90° clockwise.
        var (turned, turnedType) = await GetImageAsync(added[1].ImageUrl);
        Assert.Equal("image/jpeg", turnedType);
        double Column(int x) => Enumerable.Range(0, turned.Height).Average(y => turned.GetPixel(x, y).Red);
        Assert.Equal((512, 512), (turned.Width, turned.Height));
        double Row(int y) => Enumerable.Range(0, turned.Width).Average(x => turned.GetPixel(x, y).Red);
        Assert.True(Column(509) > Column(2) + 40 && Column(509) > Row(2) + 40,
            $"the sky is not on the right: right {Column(509):F0}, left {Column(2):F0}, top {Row(2):F0}");

        var (withAlpha, alphaType) = await GetImageAsync(added[2].ThumbnailUrl);
        Assert.Equal("image/png", alphaType);
        Assert.NotEqual(SKAlphaType.Opaque, withAlpha.AlphaType);
        Assert.Equal("image/png", (await GetImageAsync(added[2].ImageUrl)).Type);
    }

    [Fact]
    public async Task Embed_HeicNamedJpg_TheSameVectorAsTheHeic()
    {
        var heic = File.ReadAllBytes(Fixtures.Path("formats", "images", "chelsea.heic"));
        float[] Vector(string name)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(heic), "images", name } };
            using var response = _client.PostAsync("/api/embed", form).GetAwaiter().GetResult();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Content.ReadFromJsonAsync<EmbedResponse>(Json).GetAwaiter().GetResult()!.Images[0].Embedding;
        }

        Assert.Equal(Vector("chelsea.heic"), Vector("photo.jpg"));
    }

    private async Task<(SKBitmap Bitmap, string Type)> GetImageAsync(string url)
    {
        using var response = await _client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (SKBitmap.Decode(bytes), response.Content.Headers.ContentType!.MediaType!);
    }

    [Fact]
    public async Task Library_AddSearchAndServe_ById()
    {
        string[] files = ["horse.png", "astronaut.png", "coffee.png", "camera.png"];
        var added = (await (await _client.PostAsync("/api/images", TinyClip.Form(files.Select(TinyClip.Image), []))).Content
            .ReadFromJsonAsync<ImageResponse[]>(Json))!;
        Assert.Equal(files, added.Select(a => a.FileName));

        var byText = (await (await _client.PostAsJsonAsync("/api/search", new { text = "a horse", k = 2 })).Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal(4, byText.Total);
        Assert.Equal(2, byText.Results.Count);
        Assert.True(byText.Results[0].Score >= byText.Results[1].Score);

        var page2 = (await (await _client.PostAsJsonAsync("/api/search", new { text = "a horse", k = 2, offset = 2 })).Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Empty(byText.Results.Select(r => r.Id).Intersect(page2.Results.Select(r => r.Id)));

        var like = (await (await _client.PostAsJsonAsync("/api/search", new { imageId = added[0].Id, k = 10 })).Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal(3, like.Total);
        Assert.DoesNotContain(like.Results, r => r.Id == added[0].Id);

        var byImage = TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image");
        var uploaded = (await (await _client.PostAsync("/api/search", byImage)).Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal(added[0].Id, uploaded.Results[0].Id);
        Assert.Equal(1f, uploaded.Results[0].Score, 1e-4f);

        var none = (await (await _client.PostAsJsonAsync("/api/search", new { text = "a horse", minScore = 0.9999 })).Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal(0, none.Total);

        using var image = await _client.GetAsync(added[0].ImageUrl);
        Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
        Assert.Equal(File.ReadAllBytes(TinyClip.Image("horse.png")), await image.Content.ReadAsByteArrayAsync());
        using var thumbnail = await _client.GetAsync(added[0].ThumbnailUrl);
        Assert.Equal("image/png", thumbnail.Content.Headers.ContentType!.MediaType);   // horse.png has alpha: its thumbnail keeps it

        var list = (await _client.GetFromJsonAsync<ImageListResponse>("/api/images", Json))!;
        Assert.Equal(4, list.Count);
    }

    [Theory]
    [InlineData("/api/images/0123456789abcdef0123456789abcdef")]
    [InlineData("/api/images/..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/images/%2Fetc%2Fpasswd/thumbnail")]
    public async Task Images_NotALibraryId_Returns404(string url)
    {
        using var response = await _client.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"text": "a", "k": 0}""", "k must be")]
    [InlineData("""{"text": "a", "minScore": 2}""", "minScore")]
    [InlineData("""{"k": 5}""", "either")]
    [InlineData("""{"imageId": "nope"}""", "No library image")]
    [InlineData("""{"text": """, "not valid")]
    public async Task Search_BadRequest_Returns400(string body, string message)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        var problem = await ProblemAsync(await _client.PostAsync("/api/search", content), HttpStatusCode.BadRequest);
        Assert.Contains(message, problem.Detail);
    }

    [Fact]
    public async Task LoadModel_MissingFolder_Returns400AndKeepsTheModel()
    {
        var problem = await ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = "/no/such/model" }), HttpStatusCode.BadRequest);
        Assert.Contains("/no/such/model", problem.Detail);
        var health = await _client.GetFromJsonAsync<HealthResponse>("/health", Json);
        Assert.Equal("loaded", health!.Model);
    }

    [Fact]
    public async Task LoadModel_BadVariant_Returns400()
    {
        var problem = await ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = TinyClip.ModelPath, variant = "int3" }), HttpStatusCode.BadRequest);
        Assert.Contains("int3", problem.Detail);
    }

    [Fact]
    public async Task UnloadThenLoad_Quantized_ServesAgain()
    {
        (await _client.PostAsync("/api/model/unload", null)).EnsureSuccessStatusCode();
        await ProblemAsync(await _client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a"])), HttpStatusCode.ServiceUnavailable);
        using var load = await _client.PostAsJsonAsync("/api/model/load", new { path = TinyClip.ModelPath, variant = "quantized", threads = 1 });
        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        using var doc = JsonDocument.Parse(await load.Content.ReadAsStringAsync());
        Assert.Equal("quantized", doc.RootElement.GetProperty("info").GetProperty("variant").GetString());
        using var match = await _client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a"]));
        Assert.Equal(HttpStatusCode.OK, match.StatusCode);
    }

    [Fact]
    public async Task OpenApi_Document_ListsEveryRoute()
    {
        using var doc = JsonDocument.Parse(await _client.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[] { "/api/model", "/api/model/load", "/api/model/unload", "/api/embed", "/api/match", "/api/classify", "/api/search", "/api/images", "/api/images/{id}", "/api/images/{id}/thumbnail", "/health" })
        {
            Assert.Contains(path, paths);
        }
    }

    [Fact]
    public async Task Scalar_Page_IsServed()
    {
        using var response = await _client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("text/html", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Pages_NoModel_ShowHowToGetOne()
    {
        using var server = TinyClip.Server(loaded: false);
        using var client = server.CreateClient();
        var html = await client.GetStringAsync("/match");
        Assert.Contains("data-testid=\"no-model\"", html);
        Assert.Contains("Xenova/clip-vit-base-patch32", html);
    }

    [Fact]
    public async Task Pages_AcceptLanguageChinese_RenderChinese()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/match");
        request.Headers.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9,en;q=0.5");
        using var response = await _client.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("lang=\"zh-CN\"", html);
        Assert.Contains("图文匹配", html);
    }

    internal static async Task<Microsoft.AspNetCore.Mvc.ProblemDetails> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(Json))!;
            Assert.Equal((int)status, problem.Status);
            Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
            return problem;
        }
    }
}
