using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ClipSearch.Core.Tokenization;
using ClipSearch.Web.Api;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ClipSearch.Web.Tests;

/// <summary>
/// <c>/v1/models</c> and <c>/v1/embeddings</c> in memory on tiny-clip: OpenAI's shapes, Infinity's and Jina's image
/// inputs, the vectors <c>/api/embed</c> gives for the same texts and bytes, and every error in OpenAI's shape.
/// </summary>
public sealed class OpenAiApiTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly WebApplicationFactory<Program> _server = TinyClip.Server();
    private readonly HttpClient _client;

    public OpenAiApiTests() => _client = _server.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task Models_Loaded_ListsTheModelUnderItsFolderName()
    {
        using var doc = JsonDocument.Parse(await _client.GetStringAsync("/v1/models"));
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        var model = Assert.Single(doc.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("tiny-clip", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_500_000_000);
        Assert.Equal("clipsearch", model.GetProperty("owned_by").GetString());
        using var one = JsonDocument.Parse(await _client.GetStringAsync("/v1/models/tiny-clip"));
        Assert.Equal("tiny-clip", one.RootElement.GetProperty("id").GetString());
    }

    // A model downloaded into the store is named by its Hub repository, as OpenAI clients are told to ask for it.
    [Fact]
    public async Task Models_FromTheModelStore_IdIsTheHubRepository()
    {
        using var home = new TempFolder();
        var folder = Path.Combine(home.Path, "models", "Xenova", "clip-tiny");
        CopyFolder(TinyClip.ModelPath, folder);
        using var server = TinyClip.Server(false, ("ClipSearch:Home", home.Path), ("ClipSearch:ModelPath", folder));
        using var client = server.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/models"));
        var model = Assert.Single(doc.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("Xenova/clip-tiny", model.GetProperty("id").GetString());
        Assert.Equal("Xenova", model.GetProperty("owned_by").GetString());
        using (var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "Xenova/clip-tiny", input = "a cat" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Xenova/clip-tiny", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model").GetString());
        }

        using var retrieved = JsonDocument.Parse(await client.GetStringAsync("/v1/models/Xenova/clip-tiny"));
        Assert.Equal("Xenova/clip-tiny", retrieved.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Models_NoModel_EmptyListAndEmbeddings503InOpenAiShape()
    {
        using var server = TinyClip.Server(loaded: false);
        using var client = server.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/models"));
        Assert.Empty(doc.RootElement.GetProperty("data").EnumerateArray());
        var error = await ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = "a cat" }), HttpStatusCode.ServiceUnavailable);
        Assert.Equal("server_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Embeddings_StringInput_OneVectorEqualToApiEmbed()
    {
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = "a photo of a cat" });
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal("tiny-clip", body.GetProperty("model").GetString());
        var item = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        Assert.Equal((await ApiEmbedAsync([], ["a photo of a cat"])).Texts[0], Floats(item.GetProperty("embedding")));
        // <|startoftext|> a photo of a cat <|endoftext|>
        Assert.Equal(7, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_ArrayInput_VectorsInOrderAndRealTokenCounts()
    {
        string[] texts = ["a cat", "a dog in the snow", "🐱 猫"];
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = texts, user = "ignored" });
        var data = body.GetProperty("data").EnumerateArray().ToList();
        var expected = await ApiEmbedAsync([], texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(expected.Texts[i], Floats(data[i].GetProperty("embedding")));
        }

        var tokens = texts.Sum(t => ClipTokenizer.Default.Encode(t).Length);
        Assert.Equal(tokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    // /api/embed reads a field's lines as texts; OpenAI's input is one text, whatever it holds.
    [Fact]
    public async Task Embeddings_TextWithNewlines_OneEmbedding()
    {
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = new[] { "a cat\na dog" } });
        Assert.Single(body.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Embeddings_LongText_TokensCountedAsTheModelReadsThem()
    {
        var text = string.Join(' ', Enumerable.Repeat("cat", 200));
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = text });
        Assert.Equal(ClipTokenizer.DefaultContextLength, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_Base64_RoundTripsToTheFloatVectors()
    {
        string[] texts = ["a cat", "a dog"];
        var floats = await EmbeddingsAsync(new { model = "tiny-clip", input = texts, encoding_format = "float" });
        var base64 = await EmbeddingsAsync(new { model = "tiny-clip", input = texts, encoding_format = "base64" });
        for (var i = 0; i < texts.Length; i++)
        {
            var decoded = FromBase64(base64.GetProperty("data")[i].GetProperty("embedding").GetString()!);
            Assert.Equal(Floats(floats.GetProperty("data")[i].GetProperty("embedding")), decoded);
        }
    }

    // Infinity's modality "image": string inputs are images, as data: URLs.
    [Theory]
    [InlineData("horse.png", "image/png")]
    [InlineData("exif_orientation6.jpg", "image/jpeg")]
    [InlineData("gradient.webp", "application/octet-stream")]   // the media type is not trusted: the bytes are sniffed
    public async Task Embeddings_DataUrlImage_EqualsApiEmbedOfTheSameBytes(string image, string mediaType)
    {
        var bytes = await File.ReadAllBytesAsync(TinyClip.Image(image));
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = new[] { $"data:{mediaType};base64,{Convert.ToBase64String(bytes)}" }, modality = "image" });
        Assert.Equal((await ApiEmbedAsync([TinyClip.Image(image)], [])).Images[0], Floats(body.GetProperty("data")[0].GetProperty("embedding")));
        Assert.Equal(0, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_HeicDataUrl_EqualsApiEmbed()
    {
        var heic = Fixtures.Path("formats", "images", "chelsea.heic");
        var body = await EmbeddingsAsync(new { model = "tiny-clip", input = $"data:image/heic;base64,{Convert.ToBase64String(await File.ReadAllBytesAsync(heic))}", modality = "image" });
        Assert.Equal((await ApiEmbedAsync([heic], [])).Images[0], Floats(body.GetProperty("data")[0].GetProperty("embedding")));
    }

    // Jina's item objects, mixed with a plain string, come back in input order.
    [Fact]
    public async Task Embeddings_JinaMixedItems_InInputOrder()
    {
        var horse = Convert.ToBase64String(await File.ReadAllBytesAsync(TinyClip.Image("horse.png")));
        var body = await EmbeddingsAsync(new
        {
            model = "tiny-clip",
            input = new object[] { new { text = "a horse" }, new { image = $"data:image/png;base64,{horse}" }, "a cat", new { image = horse } },
        });
        var data = body.GetProperty("data").EnumerateArray().Select(d => Floats(d.GetProperty("embedding"))).ToList();
        var expected = await ApiEmbedAsync([TinyClip.Image("horse.png")], ["a horse", "a cat"]);
        Assert.Equal(expected.Texts[0], data[0]);
        Assert.Equal(expected.Images[0], data[1]);
        Assert.Equal(expected.Texts[1], data[2]);
        Assert.Equal(expected.Images[0], data[3]);   // bare base64, as Jina takes it
        Assert.Equal(ClipTokenizer.Default.Encode("a horse").Length + ClipTokenizer.Default.Encode("a cat").Length,
            body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    // A data: URL larger than the JSON limit (1 MB by default; 4 KB here) still goes in: it is an upload. On a real
    // Kestrel port, where the limit is enforced (the in-memory host has none).
    [Fact]
    public async Task Embeddings_ImageLargerThanTheJsonLimit_Accepted()
    {
        await using var server = await LoopbackServer.StartAsync(settings: [("ClipSearch:MaxJsonBytes", "4096")]);
        var bytes = await File.ReadAllBytesAsync(TinyClip.Image("astronaut.png"));
        Assert.True(bytes.Length > 4096);
        using (var response = await server.Client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image = $"data:image/png;base64,{Convert.ToBase64String(bytes)}" } } }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The rest of the API keeps it.
        await ApiTests.ProblemAsync(await server.Client.PostAsJsonAsync("/api/search", new { text = new string('a', 5000) }), HttpStatusCode.RequestEntityTooLarge);
    }

    // A body over the request limit is refused as it is read (not allocated from its Content-Length).
    [Fact]
    public async Task Embeddings_BodyOverTheRequestLimit_413InOpenAiShape()
    {
        await using var server = await LoopbackServer.StartAsync(settings: [("ClipSearch:MaxRequestBytes", "100000")]);
        var bytes = await File.ReadAllBytesAsync(TinyClip.Image("astronaut.png"));
        Assert.True(bytes.Length * 4 / 3 > 100_000);
        var body = new { model = "tiny-clip", input = $"data:image/png;base64,{Convert.ToBase64String(bytes)}", modality = "image" };
        // Chunked (no length), and with a Content-Length.
        foreach (HttpContent content in new HttpContent[] { JsonContent.Create(body), new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") })
        {
            var error = await ErrorAsync(await server.Client.PostAsync("/v1/embeddings", content), HttpStatusCode.RequestEntityTooLarge);
            Assert.Contains("over the server's limit", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Embeddings_OtherModel_404ModelNotFound()
    {
        var error = await ErrorAsync(await _client.PostAsJsonAsync("/v1/embeddings", new { model = "text-embedding-3-small", input = "a cat" }), HttpStatusCode.NotFound);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Contains("'text-embedding-3-small'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("'tiny-clip'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        await ErrorAsync(await _client.GetAsync("/v1/models/text-embedding-3-small"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("https://example.com/cat.jpg")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://127.0.0.1:8766/api/model")]
    public async Task Embeddings_RemoteUrl_400NamingTheOption(string url)
    {
        var error = await ErrorAsync(await _client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { url }, modality = "image" }), HttpStatusCode.BadRequest);
        Assert.Equal("input", error.GetProperty("param").GetString());
        Assert.Contains("--embed-url-hosts", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var jina = await ErrorAsync(await _client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image = url } } }), HttpStatusCode.BadRequest);
        Assert.Contains("input[0] is a remote URL", jina.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data:image/png;base64,@@@@", "not valid base64")]
    [InlineData("data:image/png;base64,iVBORw0", "not valid base64")]
    [InlineData("data:image/png,%89PNG", "without base64")]
    [InlineData("data:image/png;base64,", "is empty")]
    [InlineData("file:///etc/passwd", "another kind")]
    [InlineData("bm90IGFuIGltYWdl", "not an image")]
    public async Task Embeddings_BadImage_400SayingWhy(string image, string expected)
    {
        var error = await ErrorAsync(await _client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image } } }), HttpStatusCode.BadRequest);
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("input[0]", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_OversizedImage_400WithTheLimit()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImageBytes", "10000"));
        using var client = server.CreateClient();
        var bytes = await File.ReadAllBytesAsync(TinyClip.Image("astronaut.png"));
        var error = await ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = $"data:image/png;base64,{Convert.ToBase64String(bytes)}", modality = "image" }), HttpStatusCode.BadRequest);
        Assert.Contains("the limit is", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("too-large", error.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"model": "tiny-clip", "input": ""}""", "input", "empty")]
    [InlineData("""{"model": "tiny-clip", "input": []}""", "input", "empty array")]
    [InlineData("""{"model": "tiny-clip", "input": ["a cat", "  "]}""", "input", "input[1] is an empty string")]
    [InlineData("""{"model": "tiny-clip", "input": [{"text": ""}]}""", "input", "input[0].text")]
    [InlineData("""{"model": "tiny-clip", "input": [{"text": "a", "image": "b"}]}""", "input", "one of the two")]
    [InlineData("""{"model": "tiny-clip"}""", "input", "'input' is required")]
    [InlineData("""{"model": "tiny-clip", "input": [[1, 2, 3]]}""", "input", "token array")]
    [InlineData("""{"model": "tiny-clip", "input": 7}""", "input", "not a number")]
    [InlineData("""{"input": "a cat"}""", "model", "'model' is required")]
    [InlineData("""{"model": "tiny-clip", "input": "a", "encoding_format": "int8"}""", "encoding_format", "'float' or 'base64'")]
    [InlineData("""{"model": "tiny-clip", "input": "a", "modality": "audio"}""", "modality", "no audio")]
    [InlineData("""{"model": "tiny-clip", "input": "a", "dimensions": 256}""", "dimensions", "16-dimensional")]
    [InlineData("""[1, 2]""", null, "JSON object")]
    [InlineData("""{"model": "tiny-clip", "input": """, null, "not valid JSON")]
    public async Task Embeddings_BadRequest_400InOpenAiShapeNamingTheField(string json, string? param, string expected)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var error = await ErrorAsync(await _client.PostAsync("/v1/embeddings", content), HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_TooManyImages_400BeforeDecoding()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:MaxImagesPerRequest", "2"));
        using var client = server.CreateClient();
        var error = await ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { "x", "y", "z" }, modality = "image" }), HttpStatusCode.BadRequest);
        Assert.Contains("3 images is too many", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_NotJson_415InOpenAiShape()
    {
        var error = await ErrorAsync(await _client.PostAsync("/v1/embeddings", new StringContent("input=a", Encoding.UTF8, "application/x-www-form-urlencoded")), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRouteUnderV1_404InOpenAiShape_OtherRoutesKeepProblemDetails()
    {
        var error = await ErrorAsync(await _client.PostAsJsonAsync("/v1/chat/completions", new { model = "tiny-clip" }), HttpStatusCode.NotFound);
        Assert.Contains("POST /v1/chat/completions", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        await ErrorAsync(await _client.GetAsync("/v1/nothing"), HttpStatusCode.NotFound);
        var method = await ErrorAsync(await _client.DeleteAsync("/v1/embeddings"), HttpStatusCode.NotFound);
        Assert.Contains("There is no DELETE /v1/embeddings", method.GetProperty("message").GetString(), StringComparison.Ordinal);
        await ApiTests.ProblemAsync(await _client.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Embeddings_WrongOrNoToken_401AuthenticationErrorInvalidApiKey()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:Token", "s3cret"));
        using var client = server.CreateClient();
        foreach (var key in new[] { null, "sk-wrong" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = JsonContent.Create(new { model = "tiny-clip", input = "a cat" }) };
            if (key is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }

            var error = await ErrorAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized);
            Assert.Equal("authentication_error", error.GetProperty("type").GetString());
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Contains("API key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
        using var ok = await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = "a cat" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Embeddings_FromAnotherSite_403InOpenAiShape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent("""{"model":"tiny-clip","input":"a"}""", Encoding.UTF8, "text/plain") };
        request.Headers.TryAddWithoutValidation("Origin", "http://attacker.example");
        var error = await ErrorAsync(await _client.SendAsync(request), HttpStatusCode.Forbidden);
        Assert.Equal("permission_error", error.GetProperty("type").GetString());
    }

    /// <summary>The OpenAI error of <paramref name="response"/>: <c>{"error": {"message", "type", "param", "code"}}</c> and nothing else.</summary>
    internal static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
            var error = body.GetProperty("error");
            Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
            return error.Clone();
        }
    }

    private async Task<JsonElement> EmbeddingsAsync(object request)
    {
        using var response = await _client.PostAsJsonAsync("/v1/embeddings", request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>What <c>/api/embed</c> answers for these files and texts.</summary>
    internal static async Task<(float[][] Images, float[][] Texts)> ApiEmbedAsync(HttpClient client, IEnumerable<string> images, IEnumerable<string> texts)
    {
        using var response = await client.PostAsync("/api/embed", TinyClip.Form(images, texts));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var embed = (await response.Content.ReadFromJsonAsync<EmbedResponse>(Json))!;
        return ([.. embed.Images.Select(i => i.Embedding)], [.. embed.Texts.Select(t => t.Embedding)]);
    }

    private Task<(float[][] Images, float[][] Texts)> ApiEmbedAsync(IEnumerable<string> images, IEnumerable<string> texts) => ApiEmbedAsync(_client, images, texts);

    internal static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetSingle())];

    internal static float[] FromBase64(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        return [.. Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4)))];
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
