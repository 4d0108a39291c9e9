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
        var added = (await response.Content.ReadFromJsonAsync<ImageResponse[]>(Json))!;

        // The crop (400 MB RGBA and the resize's rows) and the thumbnail (PNG decodes at full size) each took it.
        Assert.InRange(budget.Peak, 400_000_000L, budget.Capacity);
        Assert.Equal(0, budget.InUse);
        using var thumbnail = await client.GetAsync(added[0].ThumbnailUrl);
        using var decoded = SkiaSharp.SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal((Core.Imaging.Thumbnails.Side, Core.Imaging.Thumbnails.Side), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Start_DecodeBudgetBelowOneMaximalImage_IsRefusedWithItsMinimum()
    {
        using var server = TinyClip.Server(false, ("ClipSearch:DecodeBudgetMegabytes", "100"));
        var error = Assert.ThrowsAny<Exception>(() => server.CreateClient());
        Assert.Contains("at least 763 MB", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Match_ConcurrentUploads_AreReceivedInTurnWithinTheUploadBudget_TwoBytesPerByteSent()
    {
        // PNGs padded to 1.5 MB (bytes after IEND are ignored): each request reserves about 3 MB of a 5 MB budget
        // before its body is read, so they are received one after another and all succeed (none waits half-way).
        var png = TestImages.SolidPng(64, 64);
        var padded = new byte[1_500_000];
        png.CopyTo(padded, 0);
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ClipSearch:UploadBudgetMegabytes", "5"));
        using var client = server.CreateClient();
        var uploads = server.Services.GetRequiredService<UploadBudget>().Bytes;

        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await client.PostAsync("/api/match", Form([($"p{i}.png", padded)], ["a square"]));
            return response.StatusCode;
        })).WaitAsync(Patience);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        // Two bytes for each byte of a body: more than twice the 1.5 MB file was held at once.
        Assert.True(uploads.Peak >= 3_000_000, $"peak {uploads.Peak}");
        // Given back when each response completes.
        for (var i = 0; i < 100 && uploads.InUse > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, uploads.InUse);
    }

    [Fact]
    public async Task Upload_BudgetFullPastTheLongestWait_503WithRetryAfter()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:UploadWaitSeconds", "1"));
        using var client = server.CreateClient();
        var uploads = server.Services.GetRequiredService<UploadBudget>().Bytes;
        var held = await uploads.AcquireAsync(uploads.Capacity);

        using var response = await client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a horse"])).WaitAsync(Patience);

        var problem = await ApiTests.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("busy", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        held.Dispose();
        using var again = await client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a horse"])).WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    // Text fields are held as strings while the form is read: they come out of the same budget as the files, two
    // bytes a character.
    [Fact]
    public async Task Embed_LargeTextFields_HoldTwiceTheirBytes()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ClipSearch:UploadBudgetMegabytes", "8"));
        using var client = server.CreateClient();
        var uploads = server.Services.GetRequiredService<UploadBudget>().Bytes;
        var texts = Enumerable.Range(0, 300).Select(i => $"{i} " + new string('t', 5000)).ToArray();   // ~1.5 MB of text

        using var response = await client.PostAsync("/api/embed", Form([], texts)).WaitAsync(Patience);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(uploads.Peak, 2 * 1_500_000, (2 * 1_560_000) + (256 * 1024));
    }

    [Fact]
    public async Task Upload_AloneLargerThanTheWholeBudget_413AtOnce()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ClipSearch:UploadBudgetMegabytes", "5"));
        using var client = server.CreateClient();
        var texts = Enumerable.Range(0, 600).Select(i => $"{i} " + new string('t', 5000)).ToArray();   // ~3 MB, held twice: over 5 MB

        using var response = await client.PostAsync("/api/embed", Form([], texts)).WaitAsync(Patience);

        var problem = await ApiTests.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("upload budget", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0, server.Services.GetRequiredService<UploadBudget>().Bytes.InUse);
    }

    [Fact]
    public void UploadBudget_SmallerThanTwiceTheLargestImage_IsRefusedAtStart()
    {
        var options = new ClipSearchOptions { MaxImageBytes = 2 * 1024 * 1024, UploadBudgetMegabytes = 4 };
        var error = Assert.Throws<Core.ClipSearchException>(() => options.CheckedUploadBudgetBytes());
        Assert.Contains("at least 5 MB", error.Message, StringComparison.Ordinal);
        options.UploadBudgetMegabytes = 5;
        Assert.Equal(5L * 1024 * 1024, options.CheckedUploadBudgetBytes());
    }

    // A client that announces a large body and sends it slowly (or not at all) keeps only what it sent once it is
    // slower than the minimum pace: before, such a request held its whole reservation, every upload behind it waited
    // for it, and with no bound on the wait.
    [Fact]
    public async Task Upload_SlowSendersAnnouncingLargeBodies_KeepOnlyWhatTheySent_OthersGoThrough()
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:UploadBudgetMegabytes", "512"));
        var uploads = server.Get<UploadBudget>().Bytes;
        var release = new TaskCompletionSource();
        const int Sent = 100 * 1024;
        var slow = Enumerable.Range(0, 2).Select(async _ =>
        {
            using var client = new HttpClient { BaseAddress = server.Uri };
            using var content = new StalledContent(Sent, 200L * 1024 * 1024, release.Task);   // reserves 400 MB: one at a time
            try
            {
                using var response = await client.PostAsync("/api/match", content);
            }
            catch (HttpRequestException)
            {
                // The server may close the connection of a body that ends early.
            }
        }).ToArray();

        try
        {
            var reserved = false;
            for (var i = 0; i < 200 && !reserved; i++)
            {
                reserved = uploads.InUse >= 400L * 1024 * 1024;   // the first one's reservation
                await Task.Delay(20);
            }

            Assert.True(reserved, "the first slow request should have reserved its announced body");
            using (var other = await server.Client.PostAsync("/api/match", TinyClip.Form([TinyClip.Image("horse.png")], ["a horse"])).WaitAsync(TimeSpan.FromSeconds(60)))
            {
                Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            }

            // Both slow ones cut to what they sent, twice (the second's reservation, too, after its grace).
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (uploads.InUse > 2 * UploadBudget.BytesHeldPerByteReceived * Sent && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            Assert.InRange(uploads.InUse, 2 * UploadBudget.BytesHeldPerByteReceived * (Sent - 1024), 2 * UploadBudget.BytesHeldPerByteReceived * Sent);
        }
        finally
        {
            release.TrySetResult();
        }

        await Task.WhenAll(slow).WaitAsync(Patience);
        for (var i = 0; i < 100 && uploads.InUse > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, uploads.InUse);
    }

    // A burst at the start does not buy minutes of an unused reservation: the pace is that of the last second.
    [Fact]
    public async Task Upload_FastStartThenStall_ReservationCutWithinSeconds()
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:UploadBudgetMegabytes", "512"));
        var uploads = server.Get<UploadBudget>().Bytes;
        var release = new TaskCompletionSource();
        const int Sent = 4 * 1024 * 1024;   // 4 MB at once: an average since the start stays over 256 KB/s for 16 s
        using var client = new HttpClient { BaseAddress = server.Uri };
        using var content = new StalledContent(Sent, 200L * 1024 * 1024, release.Task);
        var slow = Task.Run(async () =>
        {
            try
            {
                using var response = await client.PostAsync("/api/match", content);
            }
            catch (HttpRequestException)
            {
                // The server may close the connection of a body that ends early.
            }
        });
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var reserved = false;
            while (clock.Elapsed < TimeSpan.FromSeconds(4) && !reserved)
            {
                reserved = uploads.InUse >= 400L * 1024 * 1024;
                await Task.Delay(20);
            }

            Assert.True(reserved);
            while (uploads.InUse > 2L * Sent && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }

            Assert.True(uploads.InUse <= 2L * Sent, $"still {uploads.InUse} bytes held");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(UploadBudget.GraceSeconds + 5), $"cut after {clock.Elapsed}");
        }
        finally
        {
            release.TrySetResult();
        }

        await slow.WaitAsync(Patience);
    }

    /// <summary>A multipart body that announces <c>announced</c> bytes, sends <c>sent</c>, then waits and ends early.</summary>
    private sealed class StalledContent : HttpContent
    {
        private readonly int _sent;
        private readonly long _announced;
        private readonly Task _release;

        public StalledContent(int sent, long announced, Task release)
        {
            _sent = sent;
            _announced = announced;
            _release = release;
            Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
            Headers.ContentLength = announced;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var head = System.Text.Encoding.ASCII.GetBytes("--b\r\nContent-Disposition: form-data; name=\"texts\"\r\n\r\n");
            await stream.WriteAsync(head);
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(new string('x', _sent - head.Length)));
            await stream.FlushAsync();
            await _release;
            throw new IOException("the client gave up");   // ends the body early
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _announced;
            return true;
        }
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
        var library = new SessionImageLibrary(batcher, new ImageDecoding(options), options, Microsoft.Extensions.Logging.Abstractions.NullLogger<SessionImageLibrary>.Instance);
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
        var cancelled = library.SearchAsync(query, lease.Loaded, new PageRequest(50, 0, -1), cancel.Token);
        var others = Enumerable.Range(0, 4).Select(_ => library.SearchAsync(query, lease.Loaded, new PageRequest(50, 0, -1), CancellationToken.None)).ToArray();

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
        var coffee = pages[0].Hits.First(h => h.FileName == "1.png");
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(query, expected), coffee.Score, 1e-5f);
    }

    // One image the new model cannot take used to fail the shared refresh, and so every search, again and again.
    [Fact]
    public async Task SessionSearch_AfterReload_AnImageThatNoLongerDecodes_IsLeftOutAndTheOthersAreSearched()
    {
        var options = Options.Create(new ClipSearchOptions { Threads = 1 });
        using var host = new ModelHost(options);
        await host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        await using var batcher = new EmbeddingBatcher();
        var library = new SessionImageLibrary(batcher, new ImageDecoding(options), options, Microsoft.Extensions.Logging.Abstractions.NullLogger<SessionImageLibrary>.Instance);
        Upload[] uploads = [.. new[] { "horse.png", "coffee.png", "astronaut.png" }.Select(f => new Upload(f, File.ReadAllBytes(TinyClip.Image(f))))];
        using (var first = host.Acquire())
        {
            await library.AddAsync(uploads, first.Loaded, CancellationToken.None);
        }

        Array.Clear(uploads[1].Bytes);   // the bytes the library keeps, no longer an image
        await host.LoadAsync(TinyClip.ModelPath, "fp32", 1);
        using var lease = host.Acquire();
        var query = lease.Model.EmbedText("a horse");
        var before = batcher.ImagesEmbedded;

        var page = await library.SearchAsync(query, lease.Loaded, new PageRequest(10, 0, -1), CancellationToken.None).WaitAsync(Patience);
        var again = await library.SearchAsync(query, lease.Loaded, new PageRequest(10, 0, -1), CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(["astronaut.png", "horse.png"], page.Hits.Select(h => h.FileName).Order());
        Assert.Equal(2, again.Total);
        Assert.Equal(2, batcher.ImagesEmbedded - before);   // once each; the broken one is not tried again and again
        Assert.Null(await library.EmbeddingAsync(library.Recent(10).Single(i => i.FileName == "coffee.png").Id, lease.Loaded, CancellationToken.None));
    }
}
