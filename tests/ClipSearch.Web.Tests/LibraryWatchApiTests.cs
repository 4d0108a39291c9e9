using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The server's watcher (<c>ClipSearch:Watch</c>, on by default in <c>clipsearch serve</c>, off in the other web tests):
/// its state in <c>GET /api/library</c>, a file copied into a folder added through the API reaching search, and
/// <c>--no-watch</c>. Waits poll with a generous bound; nothing asserts how fast.
/// </summary>
public sealed class LibraryWatchApiTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);
    private readonly TempFolder _scratch = new();
    private readonly TempFolder _photos = new();

    public LibraryWatchApiTests()
    {
        foreach (var name in new[] { "chelsea.png", "coffee.png" })
        {
            File.Copy(TinyClip.Image(name), _photos.File(name));
        }
    }

    public void Dispose()
    {
        _photos.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task Watch_FolderAddedThroughTheApi_NewFileReachesSearchAndTheStateSaysSo()
    {
        using var server = Server(watch: true);
        using var client = server.CreateClient();
        await AddAndWaitAsync(server, client, _photos.Path);
        await Until(async () => (await WatchAsync(client)) is { } w && w.GetProperty("folders").EnumerateArray().Any());
        var watch = (await WatchAsync(client))!.Value;
        Assert.Equal([_photos.Path], watch.GetProperty("folders").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(0, watch.GetProperty("rescanOnly").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, watch.GetProperty("rescanIntervalSeconds").ValueKind);

        File.Copy(TinyClip.Image("horse.png"), _photos.File("horse.png"));

        await Until(async () => (await SearchAsync(client)).Contains("horse.png"));
        await Until(async () => (await WatchAsync(client))!.Value.GetProperty("status").GetString() == "watching");
        watch = (await WatchAsync(client))!.Value;
        Assert.Equal(_photos.File("horse.png"), watch.GetProperty("lastChangePath").GetString());
        Assert.Equal(JsonValueKind.String, watch.GetProperty("lastChangeAt").ValueKind);
        Assert.Equal(0, watch.GetProperty("pending").GetInt32());
        using (var library = JsonDocument.Parse(await client.GetStringAsync("/api/library")))
        {
            Assert.Equal(3, library.RootElement.GetProperty("stats").GetProperty("indexed").GetInt64());
            var indexing = library.RootElement.GetProperty("indexing");
            Assert.True(indexing.GetProperty("byWatcher").GetBoolean());
            Assert.Equal(1, indexing.GetProperty("result").GetProperty("embedded").GetInt32());
        }

        using var removed = await client.DeleteAsync($"/api/library/folders?path={Uri.EscapeDataString(_photos.Path)}");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(0, (await WatchAsync(client))!.Value.GetProperty("folders").GetArrayLength());
    }

    [Fact]
    public async Task NoWatch_NewFileIsNotPickedUp()
    {
        using var server = Server(watch: false);
        using var client = server.CreateClient();
        await AddAndWaitAsync(server, client, _photos.Path);
        Assert.Null(await WatchAsync(client));

        File.Copy(TinyClip.Image("horse.png"), _photos.File("horse.png"));
        // Longer than a watcher would take to see and settle it (0.5 s debounce, 1.5 s settle) several times over.
        await Task.Delay(TimeSpan.FromSeconds(8));

        Assert.DoesNotContain("horse.png", await SearchAsync(client));
        var host = server.Services.GetRequiredService<LibraryHost>();
        Assert.Equal(2, host.Indexed);
        Assert.False(host.State.Running);
    }

    [Fact]
    public void Options_NegativeRescanInterval_IsRefusedWithItsName()
    {
        var e = Assert.Throws<Core.ClipSearchException>(() => new ClipSearchOptions { RescanIntervalSeconds = -5 }.CheckedRescanInterval());
        Assert.Contains("--rescan-interval", e.Message, StringComparison.Ordinal);
        Assert.Null(new ClipSearchOptions { RescanIntervalSeconds = 0 }.CheckedRescanInterval());
    }

    private WebApplicationFactory<Program> Server(bool watch) =>
        TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")), ("ClipSearch:Watch", watch ? "true" : "false"),
            ("ClipSearch:RescanIntervalSeconds", "0"));

    private static async Task AddAndWaitAsync(WebApplicationFactory<Program> server, HttpClient client, string folder)
    {
        using var response = await client.PostAsJsonAsync("/api/library/folders", new { path = folder });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var host = server.Services.GetRequiredService<LibraryHost>();
        await host.WaitAsync().WaitAsync(Bound);
        Assert.Null(host.State.LastError);
    }

    private static async Task<JsonElement?> WatchAsync(HttpClient client)
    {
        using var library = JsonDocument.Parse(await client.GetStringAsync("/api/library"));
        var watch = library.RootElement.GetProperty("watch");
        return watch.ValueKind == JsonValueKind.Null ? null : watch.Clone();
    }

    private static async Task<IReadOnlyList<string>> SearchAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 10 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results.Select(r => r.FileName)];
    }

    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not reached within {Bound.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }
}
