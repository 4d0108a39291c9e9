using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>The tests that stall reads run one at a time (the count of stuck reads is the process's).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StalledReadsCollection
{
    public const string Name = "Stalled reads";
}

/// <summary>
/// Indexing through the web whatever a folder holds: a FIFO or a device named like a photo, a read that stalls. The
/// run ends, Stop works, and the next folder is accepted (before: the run sat at "scanning" and every folder change
/// answered 409 until a restart).
/// </summary>
[Collection(StalledReadsCollection.Name)]
public sealed class LibraryRobustnessApiTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempFolder _scratch = new();
    private readonly TempFolder _photos = new();
    private readonly WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;

    public LibraryRobustnessApiTests()
    {
        File.Copy(TinyClip.Image("horse.png"), _photos.File("horse.png"));
        File.Copy(TinyClip.Image("coffee.png"), _photos.File("coffee.png"));
        _server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    private LibraryHost Host => _server.Services.GetRequiredService<LibraryHost>();

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _photos.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task AddFolder_WithAFifoAndALinkToDevZero_EndsAndListsThemAmongTheErrors()
    {
        SpecialFiles.MakeFifo(_photos.File("x.jpg"));
        File.CreateSymbolicLink(_photos.File("zero.jpg"), "/dev/zero");

        using var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        await Host.WaitAsync().WaitAsync(Bound);
        var errors = await _client.GetFromJsonAsync<JsonElement[]>("/api/library/errors");

        Assert.Null(Host.State.LastError);
        Assert.Equal(2, Host.State.Result!.Embedded);
        Assert.Equal(
            [$"{_photos.File("x.jpg")} is a named pipe (FIFO), not a regular file: it is not read",
             $"{_photos.File("zero.jpg")} is a symbolic link to /dev/zero, which is a character device, not a regular file: it is not read"],
            errors!.Select(e => e.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Stop_WhileAReadStalls_EndsTheRunAtOnceAndTheNextFolderIsAccepted()
    {
        var clock = new Stopwatch();
        using (var stall = new StalledReads(_photos.Path))
        {
            // A photo on a network mount that stopped answering: its read never returns (the timeout is 30 s).
            using var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
            Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
            var waiting = Stopwatch.StartNew();
            while (stall.Stalled == 0 && waiting.Elapsed < Bound)
            {
                await Task.Delay(10);
            }

            Assert.True(stall.Stalled > 0, "no read stalled");
            clock.Start();
            using var stop = await _client.PostAsync("/api/library/index/stop", null);
            await Host.WaitAsync().WaitAsync(Bound);
            clock.Stop();
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        }

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.True(Host.State.Stopped);
        using var again = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        await Host.WaitAsync().WaitAsync(Bound);
        Assert.Equal(2, Host.State.Result!.Embedded);
    }

    // An indexed photo replaced by a FIFO (or a link to /dev/zero) afterwards: serving it answers 404 at once rather
    // than a request that never ends or reads without end.
    [Fact]
    public async Task GetImage_FileReplacedByAFifoOrADevice_404AtOnce()
    {
        using (var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path }))
        {
            Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        }

        await Host.WaitAsync().WaitAsync(Bound);
        using var search = await _client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 10 });
        var results = (await search.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
        var horse = results.Single(r => r.GetProperty("fileName").GetString() == "horse.png");
        var coffee = results.Single(r => r.GetProperty("fileName").GetString() == "coffee.png");
        File.Delete(_photos.File("horse.png"));
        SpecialFiles.MakeFifo(_photos.File("horse.png"));
        File.Delete(_photos.File("coffee.png"));
        File.CreateSymbolicLink(_photos.File("coffee.png"), "/dev/zero");

        var clock = Stopwatch.StartNew();
        foreach (var url in new[] { horse.GetProperty("imageUrl"), horse.GetProperty("thumbnailUrl"), coffee.GetProperty("imageUrl"), coffee.GetProperty("thumbnailUrl") })
        {
            await ApiTests.ProblemAsync(await _client.GetAsync(url.GetString()), HttpStatusCode.NotFound);
        }

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }
}
