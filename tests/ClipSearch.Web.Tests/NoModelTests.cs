using System.Net;

namespace ClipSearch.Web.Tests;

/// <summary>Without a model every model endpoint answers 503 with how to load one.</summary>
public sealed class NoModelTests : IDisposable
{
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server = TinyClip.Server(loaded: false);
    private readonly HttpClient _client;

    public NoModelTests() => _client = _server.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Theory]
    [InlineData("/api/match", "images")]
    [InlineData("/api/embed", "images")]
    [InlineData("/api/classify", "image")]
    [InlineData("/api/images", "images")]
    [InlineData("/api/search", "image")]
    public async Task ModelEndpoint_NoModel_Returns503(string url, string field)
    {
        var form = TinyClip.Form([TinyClip.Image("horse.png")], ["a cat"], imageField: field, textField: field == "image" ? "labels" : "texts");
        var problem = await ApiTests.ProblemAsync(await _client.PostAsync(url, form), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("/api/model/load", problem.Detail);
    }

    [Fact]
    public async Task SearchByText_NoModel_Returns503()
    {
        await ApiTests.ProblemAsync(await _client.PostAsync("/api/search", JsonContent("""{"text": "a cat"}""")), HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Health_NoModel_SaysEmpty()
    {
        Assert.Contains("\"empty\"", await _client.GetStringAsync("/health"));
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
