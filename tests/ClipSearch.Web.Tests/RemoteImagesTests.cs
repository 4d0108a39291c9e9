using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ClipSearch.Web.Tests;

/// <summary>
/// Image URLs in <c>/v1/embeddings</c> with <c>--embed-url-hosts</c>: fetched from the listed hosts only, with every
/// redirect checked, no private address unless listed as that address, within the per-image limit. The images come
/// from a small web server on 127.0.0.1 (listed as that address).
/// </summary>
public sealed class RemoteImagesTests : IAsyncLifetime
{
    private WebApplication _images = null!;
    private string _base = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _images = builder.Build();
        var horse = await File.ReadAllBytesAsync(TinyClip.Image("horse.png"));
        _images.MapGet("/horse.png", () => Results.Bytes(horse, "image/png"));
        _images.MapGet("/redirect", () => Results.Redirect("/horse.png"));
        _images.MapGet("/away", (HttpRequest r) => Results.Redirect($"http://localhost:{r.Host.Port}/horse.png"));
        _images.MapGet("/loop", () => Results.Redirect("/loop"));
        _images.MapGet("/big", () => Results.Bytes(new byte[20_000], "image/png"));
        _images.MapGet("/big-unannounced", async (HttpResponse response) =>
        {
            for (var i = 0; i < 20; i++)
            {
                await response.Body.WriteAsync(new byte[1000]);
                await response.Body.FlushAsync();
            }
        });
        await _images.StartAsync();
        _base = _images.Urls.First();
    }

    public async Task DisposeAsync()
    {
        await _images.StopAsync();
        await _images.DisposeAsync();
    }

    [Fact]
    public async Task Embeddings_UrlOfAListedHost_FetchedAndTheVectorOfApiEmbed()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:EmbedUrlHosts:0", "127.0.0.1"));
        using var client = server.CreateClient();
        var expected = (await OpenAiApiTests.ApiEmbedAsync(client, [TinyClip.Image("horse.png")], [])).Images[0];
        foreach (var path in new[] { "/horse.png", "/redirect" })
        {
            using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image = _base + path } } });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal(expected, OpenAiApiTests.Floats(body.GetProperty("data")[0].GetProperty("embedding")));
        }
    }

    [Theory]
    [InlineData("/away", "the host localhost (a redirect of")]
    [InlineData("/loop", "redirects more than 3 times")]
    [InlineData("/missing", "answered 404")]
    [InlineData("/big", "the limit is")]
    [InlineData("/big-unannounced", "is larger than")]
    public async Task Embeddings_UrlOfAListedHost_RefusedBeyondTheBounds(string path, string expected)
    {
        using var server = TinyClip.Server(true, ("ClipSearch:EmbedUrlHosts:0", "127.0.0.1"), ("ClipSearch:MaxImageBytes", "10000"));
        using var client = server.CreateClient();
        var error = await OpenAiApiTests.ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { _base + path }, modality = "image" }), HttpStatusCode.BadRequest);
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    // A listed name must lead to a public address: localhost (127.0.0.1) is fetched only when 127.0.0.1 itself is listed.
    [Fact]
    public async Task Embeddings_ListedNameThatResolvesToLoopback_Refused()
    {
        using var server = TinyClip.Server(true, ("ClipSearch:EmbedUrlHosts:0", "localhost"));
        using var client = server.CreateClient();
        var url = _base.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) + "/horse.png";
        var error = await OpenAiApiTests.ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image = url } } }), HttpStatusCode.BadRequest);
        Assert.Contains("private or local addresses", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var unlisted = await OpenAiApiTests.ErrorAsync(await client.PostAsJsonAsync("/v1/embeddings", new { model = "tiny-clip", input = new[] { new { image = _base + "/horse.png" } } }), HttpStatusCode.BadRequest);
        Assert.Contains("the host 127.0.0.1 is not one this server fetches from", unlisted.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.0.1", true)]
    [InlineData("169.254.169.254", true)]   // cloud metadata
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd12::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2606:4700::1111", false)]
    public void IsPrivate_Address(string address, bool expected) => Assert.Equal(expected, RemoteImages.IsPrivate(IPAddress.Parse(address)));
}
