using System.Net;
using ClipSearch.Core;
using ClipSearch.Web.Security;

namespace ClipSearch.Web.Tests;

/// <summary>The access token: required off loopback, checked on every API call and browser session.</summary>
public sealed class TokenTests : IDisposable
{
    private const string Token = "s3cret-token";
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server = TinyClip.Server(false, ("ClipSearch:Token", Token));

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData("http://0.0.0.0:8766")]
    [InlineData("http://192.168.1.20:8766")]
    [InlineData("http://[::]:8766")]
    [InlineData("http://*:8766")]
    [InlineData("http://+:8766")]
    [InlineData("http://127.0.0.1:0;http://0.0.0.0:8766")]
    public void CheckUrls_NonLoopbackWithoutToken_Throws(string url)
    {
        var e = Assert.Throws<ClipSearchException>(() => ListenRules.CheckUrls(url, null));
        Assert.Contains("--token", e.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8766")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:8766")]
    [InlineData("http://127.0.0.1:0;http://[::1]:0")]
    public void CheckUrls_Loopback_NeedsNoToken(string url) => Assert.NotEmpty(ListenRules.CheckUrls(url, null));

    [Fact]
    public void CheckUrls_NonLoopbackWithToken_Passes() => Assert.Single(ListenRules.CheckUrls("http://0.0.0.0:8766", "t"));

    // Addresses Kestrel reads differently from a person (or cannot bind): refused with a message that names the entry.
    [Theory]
    [InlineData("http://127.0.0.1:abc", "port 'abc'")]
    [InlineData("http://127.0.0.1:70000", "port '70000'")]
    [InlineData("http://127.0.0.1:-1", "port '-1'")]
    [InlineData("http://127.0.0.1", "no port")]
    [InlineData("http://[::ffff:127.0.0.1]:8766", "give 127.0.0.1 instead")]
    [InlineData("https://127.0.0.1:8766", "plain http")]
    [InlineData("ftp://127.0.0.1:8766", "plain http")]
    [InlineData("127.0.0.1:8766", "not an address")]
    [InlineData("http://127.0.0.1:8766/photos", "has a path")]
    [InlineData("http://example.com:80", "host 'example.com'")]
    [InlineData("http://127.1:80", "host '127.1'")]
    [InlineData("http://[::1:8766", "[IPv6]:PORT")]
    [InlineData("http://127.0.0.1:0;http://127.0.0.1:x", "'http://127.0.0.1:x'")]
    [InlineData(" ; ", "empty")]
    public void CheckUrls_Unusable_ThrowsNamingTheEntry(string url, string expected)
    {
        var e = Assert.Throws<ClipSearchException>(() => ListenRules.CheckUrls(url, "token"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Build_AnyAddressWithoutToken_Refuses()
    {
        var saved = Environment.GetEnvironmentVariable(ClipSearchOptions.TokenVariable);
        Environment.SetEnvironmentVariable(ClipSearchOptions.TokenVariable, null);
        try
        {
            Assert.Throws<ClipSearchException>(() => WebApp.Build([], new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:0" }));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ClipSearchOptions.TokenVariable, saved);
        }
    }

    [Theory]
    [InlineData("/api/model")]
    [InlineData("/api/images")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/model")]
    public async Task Request_WithoutToken_Returns401(string url)
    {
        using var client = _server.CreateClient();
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Request_WrongToken_Returns401()
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(TokenGate.HeaderName, "wrong");
        using var response = await client.GetAsync("/api/model");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Request_BearerToken_Passes()
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        using var response = await client.GetAsync("/api/model");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_HeaderToken_Passes()
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(TokenGate.HeaderName, Token);
        using var response = await client.GetAsync("/api/model");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Browser_TokenInQueryOnce_SetsCookieForTheSession()
    {
        using var client = _server.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var first = await client.GetAsync($"/match?token={Token}");
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/match", first.Headers.Location!.ToString());
        Assert.Contains(first.Headers.GetValues("Set-Cookie"), c => c.StartsWith(TokenGate.CookieName, StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));
        using var page = await client.GetAsync("/match");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Health_WithoutToken_Answers()
    {
        using var client = _server.CreateClient();
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
