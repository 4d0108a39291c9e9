using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ClipSearch.Web.Tests;

/// <summary>
/// Immich's machine-learning routes on tiny-clip, in memory: off by default, <c>/ping</c>, and every request
/// ClipSearch does not serve refused with a 4xx that names what to turn off (the requests as Immich builds them:
/// <see cref="ImmichRequests"/>). The answers themselves need a ViT-B/32: <see cref="ImmichVitB32Tests"/>.
/// </summary>
public sealed class ImmichApiTests : IDisposable
{
    private readonly WebApplicationFactory<Program> _server = TinyClip.Server(true, ("ClipSearch:Immich:Enabled", "true"));
    private readonly HttpClient _client;

    public ImmichApiTests() => _client = _server.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task Routes_OffByDefault_NotRoutes()
    {
        using var server = TinyClip.Server();
        using var client = server.CreateClient();
        await ApiTests.ProblemAsync(await client.GetAsync("/ping"), HttpStatusCode.NotFound);
        // A POST to a path no route has is a 405 on this server (the UI's pages answer every GET), as for /predict.
        var predict = await ApiTests.ProblemAsync(await client.PostAsync("/predict", ImmichRequests.Content(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"))), HttpStatusCode.MethodNotAllowed);
        var nothing = await ApiTests.ProblemAsync(await client.PostAsync("/no-such-route", ImmichRequests.Content(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"))), HttpStatusCode.MethodNotAllowed);
        Assert.Equal(nothing.Detail!.Replace("/no-such-route", "/predict", StringComparison.Ordinal), predict.Detail);
    }

    [Fact]
    public async Task Ping_Enabled_PongAsPlainText()
    {
        using var response = await _client.GetAsync("/ping");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("pong", await response.Content.ReadAsStringAsync());
    }

    // ViT-B-32__openai is the loaded model only when it is shaped as ViT-B/32; tiny-clip is not.
    [Fact]
    public async Task Predict_LoadedModelNotVitB32_422SayingItsGeometry()
    {
        var problem = await PredictAsync(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("2 + 2 layers, widths 32/48, patch 32, 224 px, 16-d", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("is not CLIP ViT-B/32", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ViT-L-14__openai")]
    [InlineData("XLM-Roberta-Large-Vit-B-16Plus")]
    [InlineData("immich-app/ViT-B-16-SigLIP__webli")]
    public async Task Predict_OtherModelName_422NamingItAndTheOneServed(string model)
    {
        foreach (var request in new[] { ImmichRequests.TextBody(ImmichRequests.TextEntries(model), "a cat"), ImmichRequests.ImageBody(ImmichRequests.ImageEntries(model), await File.ReadAllBytesAsync(TinyClip.Image("horse.png"))) })
        {
            var problem = await PredictAsync(request, HttpStatusCode.UnprocessableEntity);
            Assert.Contains($"Immich asked for '{model}'", problem.Detail, StringComparison.Ordinal);
            Assert.Contains("ViT-B-32__openai", problem.Detail, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(ImmichRequests.FaceEntries, "does not do facial recognition")]
    [InlineData(ImmichRequests.OcrEntries, "does not do OCR")]
    [InlineData("""{"image-description":{"captioning":{"modelName":"x"}}}""", "does not do the task 'image-description'")]
    public async Task Predict_TaskClipSearchDoesNotDo_422NamingItAndWhatToTurnOff(string entries, string expected)
    {
        var problem = await PredictAsync(ImmichRequests.ImageBody(entries, await File.ReadAllBytesAsync(TinyClip.Image("horse.png"))), HttpStatusCode.UnprocessableEntity);
        Assert.Contains(expected, problem.Detail, StringComparison.Ordinal);
        Assert.Contains("Immich", problem.Detail, StringComparison.Ordinal);
    }

    // Some models make Immich send the asset's id instead of its image (isAssetIdOnly…): ClipSearch cannot read Immich's storage.
    [Fact]
    public async Task Predict_AssetIdInsteadOfTheImage_422()
    {
        var problem = await PredictAsync(ImmichRequests.AssetIdBody(ImmichRequests.ImageEntries(), "7b6d1f4e-3c1a-4c9e-9a43-1f0f1c2d3e4f"), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("asset id instead of the image", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("{}", "names no task")]
    [InlineData("""{"clip":{}}""", "one of 'visual'")]
    [InlineData("""{"clip":{"visual":{"modelName":"ViT-B-32__openai"},"textual":{"modelName":"ViT-B-32__openai"}}}""", "'visual' and 'textual'")]
    [InlineData("""{"clip":{"visual":{}}}""", "modelName")]
    public async Task Predict_InvalidEntries_422InvalidRequestFormat(string entries, string expected)
    {
        var problem = await PredictAsync(ImmichRequests.TextBody(entries, "a cat"), HttpStatusCode.UnprocessableEntity);
        Assert.StartsWith("Invalid request format", problem.Detail, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_NeitherImageNorText_400()
    {
        using var form = new MultipartFormDataContent { { new StringContent(ImmichRequests.ImageEntries()), "entries" } };
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/predict", form), HttpStatusCode.BadRequest);
        Assert.Contains("Either image or text must be provided", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_TaskWithoutItsInput_400()
    {
        var visual = await PredictAsync(ImmichRequests.TextBody(ImmichRequests.ImageEntries(), "a cat"), HttpStatusCode.BadRequest);
        Assert.Contains("field 'image'", visual.Detail, StringComparison.Ordinal);
        var textual = await PredictAsync(ImmichRequests.ImageBody(ImmichRequests.TextEntries(), await File.ReadAllBytesAsync(TinyClip.Image("horse.png"))), HttpStatusCode.BadRequest);
        Assert.Contains("field 'text'", textual.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_NotMultipart_415()
    {
        var problem = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/predict", new { entries = "{}" }), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("multipart/form-data", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_NoModel_503()
    {
        using var server = TinyClip.Server(false, ("ClipSearch:Immich:Enabled", "true"));
        using var client = server.CreateClient();
        await ApiTests.ProblemAsync(await client.PostAsync("/predict", ImmichRequests.Content(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"))), HttpStatusCode.ServiceUnavailable);
    }

    private async Task<Microsoft.AspNetCore.Mvc.ProblemDetails> PredictAsync((byte[] Body, string ContentType) request, HttpStatusCode status) =>
        await ApiTests.ProblemAsync(await _client.PostAsync("/predict", ImmichRequests.Content(request)), status);
}

/// <summary>
/// Immich's requests, byte for byte and over a socket as Node's fetch sends them, to a real <c>clipsearch serve</c>
/// host with the full-size ViT-B/32 (random weights; <see cref="FullSizeModel"/>), and the answers read as Immich
/// reads them: the <c>clip</c> string parses to the 512 numbers <c>/api/embed</c> gives for the same text or bytes.
/// </summary>
public sealed class ImmichVitB32Tests(ImmichVitB32Tests.Server server) : IClassFixture<ImmichVitB32Tests.Server>
{
    [SkippableFact]
    public async Task Predict_TextAsImmichSendsIt_ClipParsesToTheVectorOfApiEmbed()
    {
        var loopback = server.Require();
        var (status, type, body) = await ImmichRequests.SendAsync(loopback.Uri, "POST", "/predict", ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a photo of a cat"));
        Assert.True(status == 200, Encoding.UTF8.GetString(body));
        Assert.StartsWith("application/json", type, StringComparison.Ordinal);
        var (clip, height, width) = ImmichRequests.Parse(body);
        Assert.Equal(512, clip.Length);
        Assert.Null(height);
        Assert.Null(width);
        Assert.Equal((await OpenAiApiTests.ApiEmbedAsync(loopback.Client, [], ["a photo of a cat"])).Texts[0], clip);
    }

    // exif_orientation6.jpg is stored 640×480 with orientation 6: upright it is 480 wide and 640 high, as the crop sees it.
    [SkippableFact]
    public async Task Predict_ImageAsImmichSendsIt_UprightSizeAndTheVectorOfApiEmbed()
    {
        var loopback = server.Require();
        var path = TinyClip.Image("exif_orientation6.jpg");
        var (status, _, body) = await ImmichRequests.SendAsync(loopback.Uri, "POST", "/predict", ImmichRequests.ImageBody(ImmichRequests.ImageEntries(), await File.ReadAllBytesAsync(path)));
        Assert.True(status == 200, Encoding.UTF8.GetString(body));
        var (clip, height, width) = ImmichRequests.Parse(body);
        Assert.Equal(640, height);
        Assert.Equal(480, width);
        Assert.Equal((await OpenAiApiTests.ApiEmbedAsync(loopback.Client, [path], [])).Images[0], clip);
    }

    // Immich's server names models as "immich-app/NAME" or "NAME" and reads ':' as '_' (cleanModelName).
    [SkippableTheory]
    [InlineData("immich-app/ViT-B-32__openai")]
    [InlineData("ViT-B-32::openai")]
    public async Task Predict_ModelNameAsImmichMayWriteIt_Served(string model)
    {
        var loopback = server.Require();
        var (status, _, body) = await ImmichRequests.SendAsync(loopback.Uri, "POST", "/predict", ImmichRequests.TextBody(ImmichRequests.TextEntries(model), "a dog"));
        Assert.True(status == 200, Encoding.UTF8.GetString(body));
        Assert.Equal(512, ImmichRequests.Parse(body).Clip.Length);
    }

    [SkippableFact]
    public async Task Ping_AsImmichChecksIt_Pong()
    {
        var loopback = server.Require();
        var (status, type, body) = await ImmichRequests.SendAsync(loopback.Uri, "GET", "/ping");
        Assert.Equal(200, status);
        Assert.StartsWith("text/plain", type, StringComparison.Ordinal);
        Assert.Equal("pong", Encoding.UTF8.GetString(body));
    }

    /// <summary>One server for the class, with the full-size model's quantized variant (when ./test made it).</summary>
    public sealed class Server : IAsyncLifetime
    {
        private LoopbackServer? _server;

        /// <summary>The server; skips the test (fails it under CI) without the model.</summary>
        internal LoopbackServer Require()
        {
            _ = FullSizeModel.Path();
            return _server!;
        }

        public async Task InitializeAsync()
        {
            if (FullSizeModel.Available)
            {
                _server = await LoopbackServer.StartAsync(false,
                    ("ClipSearch:ModelPath", Environment.GetEnvironmentVariable(FullSizeModel.Variable)), ("ClipSearch:Variant", "quantized"),
                    ("ClipSearch:Threads", "2"), ("ClipSearch:Immich:Enabled", "true"));
            }
        }

        public async Task DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
