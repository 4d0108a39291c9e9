using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ClipSearch.Web.Tests;

/// <summary>
/// Malformed requests a careless or hostile client sends: each gets a 4xx with a problem details body that says
/// what was wrong, never a 500.
/// </summary>
public sealed class InputRobustnessTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string[] UploadRoutes = ["/api/embed", "/api/match", "/api/classify", "/api/search", "/api/images"];
    private static readonly string[] JsonRoutes = ["/api/search", "/api/model/load", "/api/model/download", "/api/library/folders"];
    private readonly TempFolder _scratch = new();
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;

    public InputRobustnessTests()
    {
        _server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _scratch.Dispose();
    }

    // A multipart body that stops in the middle of a part (the client died, a proxy cut it).
    [Fact]
    public async Task Upload_BodyCutOffMidPart_400SaysSo()
    {
        const string boundary = "cut-boundary";
        var image = await File.ReadAllBytesAsync(TinyClip.Image("horse.png"));
        var head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"horse.png\"\r\nContent-Type: image/png\r\n\r\n");
        byte[] body = [.. head, .. image.AsSpan(0, image.Length / 2)];
        foreach (var route in UploadRoutes)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
            var problem = await ApiTests.ProblemAsync(await _client.PostAsync(route, content), HttpStatusCode.BadRequest);
            Assert.Contains("cut off", problem.Detail, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("application/json; charset=foo")]
    [InlineData("application/json; charset=\"x-unknown\"")]
    [InlineData("text/plain; charset=utf-99")]
    [InlineData("application/json; charset=utf-7")]         // known to .NET, and refused by it
    [InlineData("application/json; charset=\"utf-8\"")]   // quoted: the framework's readers do not take it
    [InlineData("multipart/form-data; boundary=x; charset=utf-7")]
    public async Task Post_UnknownCharset_415(string contentType)
    {
        foreach (var route in JsonRoutes)
        {
            using var content = new ByteArrayContent("{\"text\":\"a cat\",\"path\":\"/tmp\"}"u8.ToArray());
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            var problem = await ApiTests.ProblemAsync(await _client.PostAsync(route, content), HttpStatusCode.UnsupportedMediaType);
            Assert.Contains("UTF-8", problem.Detail, StringComparison.Ordinal);
        }
    }

    // A NUL in a folder, model path or text reaches path APIs that throw ArgumentException: a 400, not a 500.
    [Fact]
    public async Task Paths_WithNul_400()
    {
        var problem = await ApiTests.ProblemAsync(await _client.DeleteAsync("/api/library/folders?path=%2Ftmp%00x"), HttpStatusCode.BadRequest);
        Assert.Contains("control character", problem.Detail, StringComparison.Ordinal);
        problem = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = "/tmp/\0x" }), HttpStatusCode.BadRequest);
        Assert.Contains("control character", problem.Detail, StringComparison.Ordinal);
        problem = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/library/folders", new { path = "/tmp\0" }), HttpStatusCode.BadRequest);
        Assert.Contains("control character", problem.Detail, StringComparison.Ordinal);
        using var search = await _client.PostAsJsonAsync("/api/search", new { text = "a\0cat" });
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
    }

    // Each form limit is named with its own number, not as "over 50 MB per image".
    [Fact]
    public async Task Upload_TooManyFields_400NamesTheFieldLimit()
    {
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], Enumerable.Range(0, 1100).Select(i => $"text {i}"));
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/api/embed", form), HttpStatusCode.BadRequest);
        Assert.Equal("The form has more than 1,024 fields.", problem.Detail);
    }

    [Fact]
    public async Task Upload_PartHeadersTooLong_400NamesTheHeaderLimit()
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TinyClip.Image("horse.png")));
        file.Headers.TryAddWithoutValidation("X-Padding", new string('p', 20_000));
        form.Add(file, "images", "horse.png");
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/api/embed", form), HttpStatusCode.BadRequest);
        Assert.DoesNotContain("per image", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("16,384", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_TooManyImages_400BeforeReadingThem()
    {
        using var form = TinyClip.Form(Enumerable.Repeat(TinyClip.Image("horse.png"), 33), []);
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/api/embed", form), HttpStatusCode.BadRequest);
        Assert.Equal("33 images is too many for one request: at most 32.", problem.Detail);
    }

    [Fact]
    public async Task Embed_TextOverTheLengthLimit_400()
    {
        using var form = TinyClip.Form([], [new string('x', 10_001)]);
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/api/embed", form), HttpStatusCode.BadRequest);
        Assert.StartsWith("A text is 10,001 characters long; the limit is 10,000", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("-2147483648")]
    public async Task Classify_KBelowOne_400(string k)
    {
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], ["a horse", "a cat"], "image", "labels");
        form.Add(new StringContent(k), "k");
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync("/api/classify", form), HttpStatusCode.BadRequest);
        Assert.Contains($"not {k}", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_KAboveTheLabels_ReturnsEveryLabel()
    {
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], ["a horse", "a cat", "a dog"], "image", "labels");
        form.Add(new StringContent("1000"), "k");
        using var response = await _client.PostAsync("/api/classify", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("labels").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/images/0123456789abcdef0123456789abcdef")]
    [InlineData("/api/images/0123456789abcdef0123456789abcdef/thumbnail")]
    [InlineData("/api/images/..%2F..%2Fetc%2Fpasswd")]
    public async Task GetImage_Unknown_404ProblemDetails(string path)
    {
        var problem = await ApiTests.ProblemAsync(await _client.GetAsync(path), HttpStatusCode.NotFound);
        Assert.Equal("Not found", problem.Title);
    }
}

/// <summary>Names that would lie about a file: bidirectional overrides and other invisible characters are not echoed.</summary>
public sealed class DisplayNameTests : IDisposable
{
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server = TinyClip.Server();

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData("photo\u202Egpj.exe", "photogpj.exe")]
    [InlineData("a\u200Bb\u2066c\u2069.png", "abc.png")]
    [InlineData("line\u2028break\r\n.png", "linebreak.png")]
    [InlineData("C:\\Users\\me\\cat.png", "cat.png")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("\u202E", "upload")]
    [InlineData("猫\U0001F408.png", "猫\U0001F408.png")]
    public void Of_Name_KeepsOnlyWhatIsVisible(string name, string expected) => Assert.Equal(expected, Services.DisplayName.Of(name));

    [Fact]
    public void Of_LongName_CutsWholeCharacters()
    {
        var name = new string('a', 199) + "\U0001F408\U0001F408.png";
        var result = Services.DisplayName.Of(name);
        Assert.Equal(199, result.Length);   // the pair at 199–200 does not fit: not cut in half
    }

    [Fact]
    public async Task Upload_RightToLeftOverrideInName_NotEchoed()
    {
        using var client = _server.CreateClient();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(TinyClip.Image("horse.png")));
        form.Add(file, "images", "horse\u202Egnp.exe");
        using var added = await client.PostAsync("/api/images", form);
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var image = (await added.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Single();
        Assert.Equal("horsegnp.exe", image.GetProperty("fileName").GetString());

        using var download = await client.GetAsync(image.GetProperty("imageUrl").GetString());
        var disposition = string.Join(";", download.Content.Headers.GetValues("Content-Disposition"));
        Assert.DoesNotContain("\u202E", disposition, StringComparison.Ordinal);
        Assert.DoesNotContain("%E2%80%AE", disposition, StringComparison.OrdinalIgnoreCase);
    }
}
