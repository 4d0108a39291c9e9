using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>
/// A library file's thumbnail and "more like this" take the file's encoded bytes from the decode budget with the
/// decode, in one lease, before the file is read (before: the whole file was read into memory first, outside every
/// budget, by every request at once).
/// </summary>
[Collection(StalledReadsCollection.Name)]
public sealed class LibraryDecodeBudgetTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempFolder _scratch = new();
    private readonly TempFolder _photos = new();
    private readonly WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;
    private readonly byte[] _jpeg = LargeImages.Jpeg(1600, 1200, JpegLayout.Progressive);

    public LibraryDecodeBudgetTests()
    {
        File.WriteAllBytes(_photos.File("progressive.jpg"), _jpeg);
        _server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    private DecodeBudget Budget => _server.Services.GetRequiredService<ImageDecoding>().Budget;

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _photos.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task Thumbnail_LibraryFile_TakesItsBytesAndItsDecodeOnceAndReadsOnlyWhenTheyFit()
    {
        var hit = await IndexAndFindAsync();
        var budget = Budget;
        var held = await budget.AcquireAsync(budget.Capacity);
        var grants = budget.Grants;
        using (var reads = new StalledReads(_photos.Path))
        {
            var thumbnail = _client.GetAsync(hit.ThumbnailUrl);
            for (var i = 0; i < 250 && budget.Waiting == 0; i++)
            {
                await Task.Delay(20);
            }

            await Task.Delay(100);
            Assert.Equal(1, budget.Waiting);
            Assert.Equal(0, reads.Stalled);   // its size and header were read, not its bytes

            held.Dispose();
            budget.ResetPeak();   // the thumbnail's lease was granted by the release
            for (var i = 0; i < 250 && reads.Stalled == 0; i++)
            {
                await Task.Delay(20);
            }

            Assert.Equal(1, reads.Stalled);
            reads.Dispose();
            using var response = await thumbnail.WaitAsync(Bound);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(grants + 1, budget.Grants);
        Assert.Equal(_jpeg.Length + Core.Imaging.Thumbnails.PeakBytes(_jpeg, "progressive.jpg"), budget.Peak);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task MoreLikeThis_LibraryFile_UsesTheStoredEmbeddingAndDecodesNothing()
    {
        // Before issue 10 "more like this" read the file and ran the vision model again (one lease of its bytes and
        // crop); now it searches by the embedding stored when the file was indexed: no read, no decode, no inference.
        var hit = await IndexAndFindAsync();
        var budget = Budget;
        var grants = budget.Grants;
        budget.ResetPeak();
        File.Delete(_photos.File("progressive.jpg"));   // nothing left to read

        using var response = await _client.PostAsJsonAsync("/api/search", new { imageId = hit.Id, k = 5 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(grants, budget.Grants);
        Assert.Equal(0, budget.Peak);
        Assert.Empty((await response.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results);   // the library's one image, left out
    }

    [Fact]
    public async Task Original_LibraryFile_IsReadOnlyWhenItsSizeFitsInTheOriginalsBudget_NotTheDecodeBudget()
    {
        var hit = await IndexAndFindAsync();
        var decodes = Budget;
        decodes.ResetPeak();
        var budget = _server.Services.GetRequiredService<LibraryImageSearch>().OriginalsBudget;
        var held = await budget.AcquireAsync(budget.Capacity);
        var grants = budget.Grants;
        using (var reads = new StalledReads(_photos.Path))
        {
            var original = _client.GetAsync(hit.ImageUrl);
            for (var i = 0; i < 250 && budget.Waiting == 0; i++)
            {
                await Task.Delay(20);
            }

            await Task.Delay(100);
            Assert.Equal(1, budget.Waiting);   // downloads of originals wait for room among originals
            Assert.Equal(0, reads.Stalled);

            held.Dispose();
            budget.ResetPeak();
            reads.Dispose();
            using var response = await original.WaitAsync(Bound);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(_jpeg, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(grants + 1, budget.Grants);
        Assert.Equal(_jpeg.Length, budget.Peak);   // its bytes, nothing decoded
        Assert.Equal(0, decodes.Peak);             // and nothing taken from the decodes' budget
        for (var i = 0; i < 100 && budget.InUse != 0; i++)
        {
            await Task.Delay(20);   // given back once the response is over
        }

        Assert.Equal(0, budget.InUse);
    }

    private async Task<SearchHitResponse> IndexAndFindAsync()
    {
        using var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        await _server.Services.GetRequiredService<LibraryHost>().WaitAsync().WaitAsync(Bound);
        using var search = await _client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 5 });
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        return Assert.Single((await search.Content.ReadFromJsonAsync<SearchResponse>(Json))!.Results);
    }
}
