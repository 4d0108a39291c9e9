using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Library.Search;
using ClipSearch.Web.Api;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>
/// <c>GET /api/library/duplicates</c> and the Duplicates view as prerendered HTML, on tiny-clip and a temporary
/// SQLite library with known near-duplicates: horse.png saved twice (byte-identical) and coffee.png beside a
/// resized JPEG of it (its thumbnail). With tiny-clip's random weights the two pairs are ≥ 0.95 apart from each
/// other's below it, and everything joins at 0.85 (horse–coffee: 0.891).
/// </summary>
public sealed class DuplicatesApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan IndexingLimit = TimeSpan.FromMinutes(2);
    private readonly TempFolder _scratch = new();
    private readonly TempFolder _photos = new();
    private readonly WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;

    public DuplicatesApiTests()
    {
        WritePhotos(_photos);
        _server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    private LibraryHost Host => _server.Services.GetRequiredService<LibraryHost>();

    /// <summary>horse.png, a byte-identical horse-copy.png, coffee.png and coffee-small.jpg (a resized JPEG of it).</summary>
    internal static void WritePhotos(TempFolder photos)
    {
        File.Copy(TinyClip.Image("horse.png"), photos.File("horse.png"));
        File.Copy(TinyClip.Image("horse.png"), photos.File("horse-copy.png"));
        File.Copy(TinyClip.Image("coffee.png"), photos.File("coffee.png"));
        File.WriteAllBytes(photos.File("coffee-small.jpg"), Core.Imaging.Thumbnails.Make(File.ReadAllBytes(TinyClip.Image("coffee.png")), "coffee.png"));
    }

    public async Task InitializeAsync()
    {
        using var response = await _client.PostAsJsonAsync("/api/library/folders", new { path = _photos.Path });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Host.WaitAsync().WaitAsync(IndexingLimit);
        Assert.Null(Host.State.LastError);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        _server.Dispose();
        _photos.Dispose();
        _scratch.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Duplicates_DefaultThreshold_GroupsTheCopiesAndTheResizedImageAsTheLibraryDoes()
    {
        var page = await GetAsync("/api/library/duplicates");
        var library = await Host.Required.FindDuplicatesAsync(DuplicateGroup.DefaultThreshold);

        Assert.Equal(DuplicateGroup.DefaultThreshold, page.Threshold);
        Assert.Equal((2, 0), (page.Total, page.Offset));
        Assert.Equal([[_photos.File("coffee-small.jpg"), _photos.File("coffee.png")], [_photos.File("horse-copy.png"), _photos.File("horse.png")]],
            page.Groups.Select(g => g.Images.Select(i => i.Path)));
        Assert.Equal(Shape(library), Shape(page.Groups));
        Assert.Equal(1, page.Groups[1].MinScore);   // byte-identical
        Assert.InRange(page.Groups[0].MinScore, DuplicateGroup.DefaultThreshold, 0.99999f);
    }

    [Fact]
    public async Task Duplicates_EachImage_CarriesItsIdUrlsSizeDateAndDimensions()
    {
        var page = await GetAsync("/api/library/duplicates");
        var indexed = (await Host.Required.ListImagesAsync()).ToDictionary(i => i.Path);

        foreach (var image in page.Groups.SelectMany(g => g.Images))
        {
            var record = indexed[image.Path];
            Assert.Equal(record.Id.ToString(CultureInfo.InvariantCulture), image.Id);
            Assert.Equal(Path.GetFileName(image.Path), image.FileName);
            Assert.Equal(new FileInfo(image.Path).Length, image.Bytes);
            Assert.Equal(record.Metadata!.TakenAtText, image.TakenAt);
            Assert.Equal($"/api/images/{image.Id}", image.ImageUrl);
            Assert.Equal($"/api/images/{image.Id}/thumbnail", image.ThumbnailUrl);
            Assert.Equal(await File.ReadAllBytesAsync(image.Path), await _client.GetByteArrayAsync(image.ImageUrl));
            using var thumbnail = await _client.GetAsync(image.ThumbnailUrl);
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        }

        var coffee = page.Groups.SelectMany(g => g.Images).Single(i => i.FileName == "coffee.png");
        var small = page.Groups.SelectMany(g => g.Images).Single(i => i.FileName == "coffee-small.jpg");
        Assert.Equal((600, 400), (coffee.Width, coffee.Height));
        Assert.InRange(small.Width!.Value, 1, 599);
        Assert.InRange(small.Width.Value / (double)small.Height!.Value, 1.48, 1.52);   // resized, not cropped
    }

    [Theory]
    [InlineData("1", 1)]          // only the byte-identical copies
    [InlineData("0.95", 2)]
    [InlineData("0.85", 1)]       // everything in one group
    public async Task Duplicates_Threshold_ChangesTheGroupsAsTheLibrarysFinder(string threshold, int groups)
    {
        var page = await GetAsync($"/api/library/duplicates?threshold={threshold}");
        var library = await Host.Required.FindDuplicatesAsync(float.Parse(threshold, CultureInfo.InvariantCulture));

        Assert.Equal(groups, page.Total);
        Assert.Equal(Shape(library), Shape(page.Groups));
        Assert.Equal(threshold == "0.85" ? 4 : 2, page.Groups[0].Images.Count);
    }

    [Fact]
    public async Task Duplicates_Paging_GivesTheGroupsInOrderAndTheTotal()
    {
        var all = await GetAsync("/api/library/duplicates?threshold=0.95");
        var first = await GetAsync("/api/library/duplicates?threshold=0.95&limit=1");
        var second = await GetAsync("/api/library/duplicates?threshold=0.95&offset=1&limit=1");
        var past = await GetAsync("/api/library/duplicates?threshold=0.95&offset=5");

        Assert.Equal((2, 2, 2, 2), (all.Total, first.Total, second.Total, past.Total));
        Assert.Equal(Shape(all.Groups), [.. Shape(first.Groups), .. Shape(second.Groups)]);
        Assert.Equal(1, second.Offset);
        Assert.Empty(past.Groups);
    }

    [Theory]
    [InlineData("threshold=0", "(0, 1]")]
    [InlineData("threshold=1.5", "(0, 1]")]
    [InlineData("threshold=-0.2", "(0, 1]")]
    [InlineData("threshold=NaN", "(0, 1]")]
    [InlineData("threshold=abc", "a number in (0, 1]")]
    [InlineData("threshold=0,9", "a number in (0, 1]")]
    [InlineData("limit=0", "'limit'")]
    [InlineData("limit=101", "'limit'")]
    [InlineData("limit=x", "'limit'")]
    [InlineData("offset=-1", "'offset'")]
    [InlineData("offset=1.5", "'offset'")]
    public async Task Duplicates_BadParameter_Returns400SayingWhatToFix(string query, string expected)
    {
        var problem = await ApiTests.ProblemAsync(await _client.GetAsync($"/api/library/duplicates?{query}"), HttpStatusCode.BadRequest);

        Assert.Contains(expected, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicates_BadThreshold_CarriesItsCode()
    {
        using var response = await _client.GetAsync("/api/library/duplicates?threshold=2");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(Core.ErrorCodes.DuplicatesBadThreshold, problem.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Duplicates_NoLibrary_Returns400AsTheOtherLibraryRoutes()
    {
        using var server = TinyClip.Server(false);
        using var client = server.CreateClient();

        var problem = await ApiTests.ProblemAsync(await client.GetAsync("/api/library/duplicates"), HttpStatusCode.BadRequest);
        var other = await ApiTests.ProblemAsync(await client.GetAsync("/api/library/errors"), HttpStatusCode.BadRequest);

        Assert.Contains("No photo library is open", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(other.Detail, problem.Detail);
    }

    [Fact]
    public async Task Duplicates_WithAToken_RequireIt()
    {
        using var server = TinyClip.Server(false, ("ClipSearch:Token", "s3cret-token"), ("ClipSearch:Library", _scratch.File("library.db")));
        using var client = server.CreateClient();

        using var anonymous = await client.GetAsync("/api/library/duplicates");
        client.DefaultRequestHeaders.Add(Security.TokenGate.HeaderName, "s3cret-token");
        using var allowed = await client.GetAsync("/api/library/duplicates");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(2, (await allowed.Content.ReadFromJsonAsync<DuplicatesResponse>(Json))!.Total);
    }

    [Fact]
    public async Task DuplicatesView_WithoutJavaScript_IsPrerenderedForTheThresholdInTheAddress()
    {
        // What a browser without JavaScript gets: the page rendered on the server for ?threshold= (the slider's GET form).
        var standard = await _client.GetStringAsync("/library/duplicates");
        var loose = await _client.GetStringAsync("/library/duplicates?threshold=0.85");

        Assert.Equal(2, Count(standard, "data-testid=\"dup-group\""));
        Assert.Equal(1, Count(loose, "data-testid=\"dup-group\""));
        Assert.Equal(4, Count(loose, "data-testid=\"dup-image\""));
        Assert.Contains("name=\"threshold\"", standard, StringComparison.Ordinal);
        Assert.Contains("value=\"0.95\"", standard, StringComparison.Ordinal);
        Assert.Contains(_photos.File("coffee-small.jpg"), standard, StringComparison.Ordinal);
    }

    private static int Count(string html, string what) => (html.Length - html.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    private static List<List<string>> Shape(IEnumerable<DuplicateGroup> groups) =>
        [.. groups.Select(g => g.Images.Select(i => i.Id.ToString(CultureInfo.InvariantCulture) + " " + g.MinScore.ToString("R", CultureInfo.InvariantCulture)).ToList())];

    private static List<List<string>> Shape(IEnumerable<DuplicateGroupResponse> groups) =>
        [.. groups.Select(g => g.Images.Select(i => i.Id + " " + g.MinScore.ToString("R", CultureInfo.InvariantCulture)).ToList())];

    private async Task<DuplicatesResponse> GetAsync(string url)
    {
        using var response = await _client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DuplicatesResponse>(Json))!;
    }
}
