using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Tests;

/// <summary>What the server holds under load: decoded pixels, uploads, label embeddings, and re-embedding after a reload.</summary>
public sealed class MemoryTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>10000 × 10000 RGB, one colour: 100 megapixels (the limit), about 300 KB encoded, 400 MB decoded.</summary>
    private static readonly Lazy<byte[]> HundredMegapixelPng = new(() => TestImages.SolidPng(10_000, 10_000));

    private static MultipartFormDataContent Form(IEnumerable<(string Name, byte[] Bytes)> images, IEnumerable<string> texts, string imageField = "images")
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in images)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, imageField, name);
        }

        foreach (var text in texts)
        {
            form.Add(new StringContent(text), "texts");
        }

        return form;
    }

    [Fact]
    public async Task Match_ConcurrentHundredMegapixelPngs_HoldNoMoreThanTheDecodeBudget()
    {
        // The smallest budget allowed: one 100-megapixel image (with room for its rotated copy) at a time.
        using var server = TinyClip.Server(true, ("ClipSearch:DecodeBudgetMegabytes", "763"));
        using var client = server.CreateClient();
        client.Timeout = Patience;
        var budget = server.Services.GetRequiredService<ImageDecoding>().Budget;
        var png = HundredMegapixelPng.Value;

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
        {
            using var response = await client.PostAsync("/api/match", Form([($"a{i}.png", png), ($"b{i}.png", png)], ["an orange wall"]));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        })).WaitAsync(Patience);

        Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.OK, r.Item2));
        Assert.Equal(763 * 1024L * 1024, budget.Capacity);
        Assert.InRange(budget.Peak, 400_000_000L, budget.Capacity);
        Assert.Equal(0, budget.InUse);
        var match = JsonSerializer.Deserialize<MatchResponse>(responses[0].Item2, Json)!;
        Assert.Equal(2, match.Images.Count);
        Assert.Equal(match.Cosine[0][0], match.Cosine[1][0], 1e-6f);
    }

    [Fact]
    public async Task AddImage_HundredMegapixelPng_CropAndThumbnailGoThroughTheDecodeBudget()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:DecodeBudgetMegabytes", "763"));
        using var client = server.CreateClient();
        client.Timeout = Patience;
        var budget = server.Services.GetRequiredService<ImageDecoding>().Budget;

        using var response = await client.PostAsync("/api/images", Form([("big.png", HundredMegapixelPng.Value)], []));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var added = (await response.Content.ReadFromJsonAsync<LibraryImageResponse[]>(Json))!;

        // The crop (400 MB RGBA and the resize's rows) and the thumbnail (PNG decodes at full size) each took it.
        Assert.InRange(budget.Peak, 400_000_000L, budget.Capacity);
        Assert.Equal(0, budget.InUse);
        using var thumbnail = await client.GetAsync(added[0].ThumbnailUrl);
        using var decoded = SkiaSharp.SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal((ImageFiles.ThumbnailSide, ImageFiles.ThumbnailSide), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Start_DecodeBudgetBelowOneMaximalImage_IsRefusedWithItsMinimum()
    {
        using var server = TinyClip.Server(false, ("ClipSearch:DecodeBudgetMegabytes", "100"));
        var error = Assert.ThrowsAny<Exception>(() => server.CreateClient());
        Assert.Contains("at least 763 MB", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_ConcurrentUploads_HoldNoMoreThanTheUploadBudget()
    {
        // A PNG padded to 1.5 MB (bytes after IEND are ignored); the budget holds one such request at a time.
        var png = TestImages.SolidPng(64, 64);
        var padded = new byte[1_500_000];
        png.CopyTo(padded, 0);
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ClipSearch:UploadBudgetMegabytes", "2"));
        using var client = server.CreateClient();
        var uploads = server.Services.GetRequiredService<UploadBudget>().Bytes;

        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await client.PostAsync("/api/match", Form([($"p{i}.png", padded)], ["a square"]));
            return response.StatusCode;
        })).WaitAsync(Patience);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(uploads.Peak, 1_500_000, 2 * 1024 * 1024);
        // Given back when each response completes.
        for (var i = 0; i < 100 && uploads.InUse > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, uploads.InUse);
    }

    // Text fields are held as strings while the form is read: they come out of the same budget as the files.
    [Fact]
    public async Task Embed_ConcurrentLargeTextFields_HoldNoMoreThanTheUploadBudget()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ClipSearch:UploadBudgetMegabytes", "2"));
        using var client = server.CreateClient();
        var uploads = server.Services.GetRequiredService<UploadBudget>().Bytes;
        var texts = Enumerable.Range(0, 300).Select(i => $"{i} " + new string('t', 5000)).ToArray();   // ~1.5 MB of text

        var statuses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await client.PostAsync("/api/embed", Form([], texts));
            return response.StatusCode;
        })).WaitAsync(Patience);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.InRange(uploads.Peak, 1_500_000, 2 * 1024 * 1024);
    }

    [Fact]
    public async Task Classify_ManyUniqueTemplateSets_LabelCacheStaysWithinItsBound()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:ZeroShotCacheMegabytes", "1"));
        using var client = server.CreateClient();
        var labels = string.Join('\n', Enumerable.Range(0, 150).Select(i => $"thing number {i}"));
        for (var i = 0; i < 40; i++)
        {
            var form = TinyClip.Form([TinyClip.Image("horse.png")], [labels], imageField: "image", textField: "labels");
            form.Add(new StringContent($"request {i}: a photo of a {{}}."), "templates");
            using var response = await client.PostAsync("/api/classify", form);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var lease = server.Services.GetRequiredService<ModelHost>().Acquire();
        var classifier = lease.Loaded.Classifier;
        Assert.Equal(1024 * 1024, classifier.CacheCapacityBytes);
        Assert.InRange(classifier.CachedBytes, 1, classifier.CacheCapacityBytes);
        Assert.True(classifier.CacheEvictions > 0);
    }

    [Fact]
    public async Task Search_ConcurrentAfterReload_ReembedsEachSessionImageOnce()
    {
        using var server = TinyClip.Server();
        using var client = server.CreateClient();
        string[] files = ["horse.png", "astronaut.png", "coffee.png", "camera.png", "chelsea.png", "page.png"];
        using (var added = await client.PostAsync("/api/images", TinyClip.Form(files.Select(TinyClip.Image), [])))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        await server.Services.GetRequiredService<ModelHost>().LoadAsync(TinyClip.ModelPath, "fp32", 1);
        var batcher = server.Services.GetRequiredService<EmbeddingBatcher>();
        var before = batcher.ImagesEmbedded;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await client.PostAsJsonAsync("/api/search", new { text = "a horse", k = 10 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        })).WaitAsync(Patience);

        Assert.Equal(files.Length, batcher.ImagesEmbedded - before);
        Assert.All(results, r => Assert.Equal(files.Length, r.Total));
        Assert.All(results, r => Assert.Equal(results[0].Results.Select(h => (h.Id, h.Score)), r.Results.Select(h => (h.Id, h.Score))));

        // And the embeddings are the new model's: the horse finds itself.
        using var byImage = await client.PostAsync("/api/search", TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image"));
        var self = (await byImage.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal("horse.png", self.Results[0].FileName);
        Assert.Equal(1f, self.Results[0].Score, 1e-4f);
    }

    [Fact]
    public async Task SessionSearch_OneCallerCancelledDuringRefresh_OthersGetEveryImageEmbeddedOnce()
    {
        var options = Options.Create(new ClipSearchOptions { Threads = 1 });
        using var host = new ModelHost(options);
        await host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        await using var batcher = new EmbeddingBatcher();
        var library = new SessionImageLibrary(batcher, new ImageDecoding(options), options);
        var uploads = Enumerable.Range(0, 24)
            .Select(i => new Upload($"{i}.png", File.ReadAllBytes(TinyClip.Image(i % 2 == 0 ? "astronaut.png" : "coffee.png"))))
            .ToArray();
        using (var first = host.Acquire())
        {
            await library.AddAsync(uploads, first.Loaded, CancellationToken.None);
        }

        await host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        using var lease = host.Acquire();
        var query = lease.Model.EmbedText("a cup of coffee");
        var before = batcher.ImagesEmbedded;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(5));
        var cancelled = library.SearchAsync(query, lease.Loaded, new SearchOptions(50, 0, -1), cancel.Token);
        var others = Enumerable.Range(0, 4).Select(_ => library.SearchAsync(query, lease.Loaded, new SearchOptions(50, 0, -1), CancellationToken.None)).ToArray();

        try
        {
            await cancelled.WaitAsync(Patience);
        }
        catch (OperationCanceledException)
        {
            // expected when the refresh outlasted 5 ms; it goes on for the others
        }

        var pages = await Task.WhenAll(others).WaitAsync(Patience);
        Assert.All(pages, p => Assert.Equal(24, p.Total));
        Assert.Equal(24, batcher.ImagesEmbedded - before);
        var expected = lease.Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(TinyClip.Image("coffee.png"), lease.Model.Preprocess, new Core.Imaging.ImageLoadOptions())])[0];
        var coffee = pages[0].Hits.First(h => h.Image.FileName == "1.png");
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(query, expected), coffee.Score, 1e-5f);
    }
}
