using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>The Library endpoints and library-backed search, on tiny-clip and a temporary SQLite library.</summary>
public sealed class LibraryApiTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan IndexingLimit = TimeSpan.FromMinutes(2);
    private static readonly string[] Images = ["horse.png", "chelsea.png", "coffee.png"];
    private readonly TempFolder _scratch = new();
    private readonly TempFolder _photos = new();
    private readonly WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;

    public LibraryApiTests()
    {
        foreach (var name in Images)
        {
            File.Copy(TinyClip.Image(name), _photos.File(name));
        }

        File.WriteAllText(_photos.File("broken.jpg"), "this is not a JPEG");
        _server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _photos.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task AddFolder_IndexingCompletes_CountsErrorsAndSearchWithThumbnails()
    {
        await AddAndWaitAsync(_photos.Path);

        using var library = JsonDocument.Parse(await _client.GetStringAsync("/api/library"));
        var stats = library.RootElement.GetProperty("stats");
        Assert.Equal(3, stats.GetProperty("indexed").GetInt64());
        Assert.Equal(1, stats.GetProperty("failed").GetInt64());
        Assert.Equal([_photos.Path], stats.GetProperty("folders").EnumerateArray().Select(f => f.GetString()));
        var indexing = library.RootElement.GetProperty("indexing");
        Assert.False(indexing.GetProperty("running").GetBoolean());
        Assert.Equal(3, indexing.GetProperty("result").GetProperty("embedded").GetInt32());

        var errors = await _client.GetFromJsonAsync<JsonElement[]>("/api/library/errors", Json);
        Assert.Equal(_photos.File("broken.jpg"), Assert.Single(errors!).GetProperty("path").GetString());

        using var response = await _client.PostAsJsonAsync("/api/search", new { text = "a photo of a horse", k = 10 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        Assert.Equal(Images.Order(), page.Results.Select(r => r.FileName).Order());
        foreach (var result in page.Results)
        {
            using var thumbnail = await _client.GetAsync(result.ThumbnailUrl);
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            // A JPEG, or a PNG where the image has alpha (horse.png's background is transparent).
            var bytes = await thumbnail.Content.ReadAsByteArrayAsync();
            var expected = result.FileName == "horse.png" ? "image/png" : "image/jpeg";
            Assert.Equal(expected, thumbnail.Content.Headers.ContentType?.MediaType);
            Assert.Equal(expected, Core.Imaging.ImageFormats.ContentTypeOf(bytes));
            var original = await _client.GetByteArrayAsync(result.ImageUrl);
            Assert.Equal(await File.ReadAllBytesAsync(_photos.File(result.FileName)), original);
        }
    }

    [Fact]
    public async Task RemoveFolder_Indexed_EmptiesLibraryAndSearch()
    {
        await AddAndWaitAsync(_photos.Path);

        using var removed = await _client.DeleteAsync($"/api/library/folders?path={Uri.EscapeDataString(_photos.Path)}");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);

        using var library = JsonDocument.Parse(await _client.GetStringAsync("/api/library"));
        Assert.Equal(0, library.RootElement.GetProperty("stats").GetProperty("files").GetInt64());
        Assert.Empty(library.RootElement.GetProperty("stats").GetProperty("folders").EnumerateArray());
        using var response = await _client.PostAsJsonAsync("/api/search", new { text = "a horse" });
        Assert.Empty((await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results);
    }

    [Fact]
    public async Task AddFolder_WhileIndexing_Returns409()
    {
        // Enough distinct files (bytes appended after the PNG's end) that the first run is still going.
        using var many = new TempFolder();
        var png = await File.ReadAllBytesAsync(TinyClip.Image("horse.png"));
        for (var i = 0; i < 400; i++)
        {
            await File.WriteAllBytesAsync(many.File($"horse{i}.png"), [.. png, .. BitConverter.GetBytes(i)]);
        }

        using var first = await _client.PostAsJsonAsync("/api/library/folders", new { path = many.Path });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using var second = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);

        using var stop = await _client.PostAsync("/api/library/index/stop", null);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        await Host.WaitAsync().WaitAsync(IndexingLimit);
        Assert.False(Host.State.Running);
    }

    [Theory]
    [InlineData("relative/folder")]
    [InlineData("/no/such/folder/anywhere")]
    [InlineData("")]
    public async Task AddFolder_BadPath_Returns400(string path)
    {
        using var response = await _client.PostAsJsonAsync("/api/library/folders", new { path });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AddFolder_NoModel_Returns503()
    {
        using var scratch = new TempFolder();
        using var server = TinyClip.Server(false, ("ClipSearch:Library", scratch.File("library.db")));
        using var client = server.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Image_UnknownId_Returns404()
    {
        using var response = await _client.GetAsync("/api/images/0123456789abcdef0123456789abcdef/thumbnail");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task LibraryImages_AreNamedByTheLibrarysIdsAndServedWithTheTypeTheirBytesHold()
    {
        File.Copy(TinyClip.Image("horse.png"), _photos.File("png-named.jpg"));   // a PNG (its own content) whatever its name says
        File.WriteAllBytes(_photos.File("png-named.jpg"), [.. File.ReadAllBytes(_photos.File("png-named.jpg")), 0]);
        await AddAndWaitAsync(_photos.Path);
        var library = Host.Library!;
        var images = await library.ListImagesAsync();
        var misnamed = images.Single(i => i.Path == _photos.File("png-named.jpg"));
        var search = _server.Services.GetRequiredService<IImageSearch>();

        using var response = await _client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 10 });
        var page = (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;
        using var original = await _client.GetAsync(ImagesApi.ImageUrl(misnamed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var id = misnamed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(images.Select(i => i.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal), page.Results.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.OK, original.StatusCode);
        Assert.Equal("image/png", original.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File.ReadAllBytes(misnamed.Path), await original.Content.ReadAsByteArrayAsync());
        Assert.Null(search.Uploads);   // the photo library takes folders, not uploads
        Assert.Equal(new ImageEntry(id, "png-named.jpg"), await search.FindAsync(id, CancellationToken.None));
        Assert.Equal(await library.GetEmbeddingAsync(misnamed.Id), await search.EmbeddingAsync(id, null!, CancellationToken.None));
        foreach (var other in new[] { "0" + id, "+" + id, id + " ", "x" })
        {
            Assert.Null(await search.FindAsync(other, CancellationToken.None));   // one spelling per id
        }
    }

    [Fact]
    public async Task GetLibrary_GivesTheSearchMethodAsDataBesideItsEnglishWords()
    {
        await AddAndWaitAsync(_photos.Path);

        using var library = JsonDocument.Parse(await _client.GetStringAsync("/api/library"));

        var method = library.RootElement.GetProperty("searchMethod");
        Assert.Equal("exact", method.GetProperty("kind").GetString());
        Assert.Equal("belowThreshold", method.GetProperty("exactBecause").GetString());
        Assert.Equal(ClipSearch.Library.Search.VectorIndexOptions.DefaultHnswThreshold, method.GetProperty("hnswThreshold").GetInt32());
        Assert.Equal("exact (an HNSW graph is built from 50,000 images on)", library.RootElement.GetProperty("search").GetString());
    }

    [Fact]
    public async Task GetLibrary_FolderWithFilesThatAreNotImagesAndARawBesideItsJpeg_CountsWhatTheWalkPassedOver()
    {
        foreach (var name in new[] { "a.mov", "b.MOV", "notes.txt" })
        {
            File.WriteAllText(_photos.File(name), "");
        }

        File.Copy(TinyClip.Image("horse.png"), _photos.File("broken.NEF"));   // beside broken.jpg: not indexed
        await AddAndWaitAsync(_photos.Path);

        using var library = JsonDocument.Parse(await _client.GetStringAsync("/api/library"));
        var stats = library.RootElement.GetProperty("stats");
        var result = library.RootElement.GetProperty("indexing").GetProperty("result");

        foreach (var skipped in new[] { stats.GetProperty("skipped"), result.GetProperty("skipped") })
        {
            Assert.Equal([(".mov", 2), (".txt", 1)], skipped.GetProperty("notImages").EnumerateArray()
                .Select(e => (e.GetProperty("extension").GetString(), e.GetProperty("count").GetInt32())));
            Assert.Equal((3, 1), (skipped.GetProperty("notImageFiles").GetInt32(), skipped.GetProperty("rawWithSibling").GetInt32()));
        }

        Assert.Equal((4L, 1L), (stats.GetProperty("files").GetInt64(), stats.GetProperty("failed").GetInt64()));   // the three images and broken.jpg
    }

    [Fact]
    public async Task MoreLikeThis_OnACopy_LeavesOutTheImageItselfWhicheverCopyNamesIt()
    {
        // horse.png and its byte-identical copy z-horse.png: one content, whose hit is named by the first path.
        File.Copy(_photos.File("horse.png"), _photos.File("z-horse.png"));
        await AddAndWaitAsync(_photos.Path);
        var images = await Host.Required.ListImagesAsync();
        var copy = images.Single(i => i.Path == _photos.File("z-horse.png"));

        using var response = await _client.PostAsJsonAsync("/api/search", new { imageId = copy.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), k = 10 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = (await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!;

        // Before: horse.png came back first, at 1.000 — the query image itself.
        Assert.Equal(["chelsea.png", "coffee.png"], page.Results.Select(r => r.FileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Thumbnail_FileEditedAndIndexedAgain_IsMadeAgainNotServedFromTheCache()
    {
        await AddAndWaitAsync(_photos.Path);
        var id = (await Host.Required.ListImagesAsync()).Single(i => i.Path == _photos.File("horse.png")).Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var first = await _client.GetAsync($"/api/images/{id}/thumbnail");
        var before = await first.Content.ReadAsByteArrayAsync();
        Assert.True(first.Headers.CacheControl is { NoCache: true, Private: true }, $"Cache-Control: {first.Headers.CacheControl}");

        // The same path (so the same id) now holds another picture.
        File.Copy(_photos.File("coffee.png"), _photos.File("horse.png"), overwrite: true);
        File.SetLastWriteTimeUtc(_photos.File("horse.png"), DateTime.UtcNow.AddMinutes(1));
        await AddAndWaitAsync(_photos.Path);
        Assert.Equal(id, (await Host.Required.ListImagesAsync()).Single(i => i.Path == _photos.File("horse.png")).Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var second = await _client.GetAsync($"/api/images/{id}/thumbnail");
        Assert.NotEqual(before, await second.Content.ReadAsByteArrayAsync());
        Assert.NotEqual(first.Headers.ETag, second.Headers.ETag);
    }

    private LibraryHost Host => _server.Services.GetRequiredService<LibraryHost>();

    private async Task AddAndWaitAsync(string folder)
    {
        using var response = await _client.PostAsJsonAsync("/api/library/folders", new { path = folder });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Host.WaitAsync().WaitAsync(IndexingLimit);
        Assert.Null(Host.State.LastError);
    }
}
