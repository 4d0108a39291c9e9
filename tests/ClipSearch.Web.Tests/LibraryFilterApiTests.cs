using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Security;
using ClipSearch.Web.Services;
using ImageMagick;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The filters and the date order of <c>/api/search</c> and the browse routes (<c>/api/library/images</c>,
/// <c>/months</c>, <c>/folders/tree</c>), on tiny-clip and a SQLite library of dated photos (the store-level filter
/// tests run on both stores); every request carries the server's token.
/// </summary>
public sealed class LibraryFilterApiTests(LibraryFilterApiTests.DatedLibrary library) : IClassFixture<LibraryFilterApiTests.DatedLibrary>
{
    private const string Token = "filter-token";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Every photo, newest first (by date taken, wall clock).</summary>
    private static readonly string[] NewestFirst = ["late.jpg", "horse.png", "spring.jpg", "winter.jpg", "summer.jpg", "plain.jpg"];

    private HttpClient Client => library.Client;

    [Theory]
    [InlineData("photos/2023", null, null, null, "summer.jpg,winter.jpg")]
    [InlineData("photos/2024", null, null, null, "horse.png,plain.jpg,spring.jpg")]   // a folder with its subfolders
    [InlineData("photos/2024/trip|more", null, null, null, "horse.png,late.jpg,plain.jpg")]
    [InlineData(null, "2023-07", "2023-12", null, "summer.jpg,winter.jpg")]
    [InlineData(null, "2024", null, null, "horse.png,late.jpg,spring.jpg")]
    [InlineData(null, null, "2023-07-04", null, "plain.jpg,summer.jpg")]            // to: the whole day
    [InlineData(null, "2023-07-05", "2023-12-25", null, "winter.jpg")]
    [InlineData(null, null, null, "png", "horse.png")]
    [InlineData(null, null, null, "jpg,PNG", "horse.png,late.jpg,plain.jpg,spring.jpg,summer.jpg,winter.jpg")]
    [InlineData("photos", "2023", null, "jpeg", "spring.jpg,summer.jpg,winter.jpg")]
    [InlineData(null, null, null, "heic", "")]
    public async Task Search_Filter_ReturnsExactlyTheImagesThatPass(string? folders, string? from, string? to, string? types, string expected)
    {
        using var response = await Client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 50, folder = Folders(folders), from, to, types });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(Names(expected), Results(page).Select(r => r.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(Names(expected).Length, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Search_TypesAsAnArrayAndFolderAsAString_AreReadAsTheirCommaAndRepeatedForms()
    {
        using var response = await Client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 50, folder = library.Path("photos/2024"), types = new[] { "png", "jpeg" } });

        var page = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(["horse.png", "plain.jpg", "spring.jpg"], Results(page).Select(r => r.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Search_MultipartImage_TakesTheSameFiltersRepeated()
    {
        using var form = TinyClip.Form([TinyClip.Image("horse.png")], [], imageField: "image");
        form.Add(new StringContent(library.Path("photos/2023")), "folder");
        form.Add(new StringContent(library.Path("more")), "folder");
        form.Add(new StringContent("jpeg"), "types");
        form.Add(new StringContent("date"), "sort");
        form.Add(new StringContent("50"), "k");

        using var response = await Client.PostAsync("/api/search", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(["late.jpg", "winter.jpg", "summer.jpg"], Results(page).Select(r => r.GetProperty("fileName").GetString()));
    }

    [Fact]
    public async Task Search_SortDate_OrdersByTakenAtNewestFirst_AndResultsCarryDateSizeAndFormat()
    {
        using var byDate = await Client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 50, sort = "date" });
        using var byRelevance = await Client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 50 });

        var results = Results(await byDate.Content.ReadFromJsonAsync<JsonElement>(Json)).ToList();
        Assert.Equal(NewestFirst, results.Select(r => r.GetProperty("fileName").GetString()));
        var scores = Results(await byRelevance.Content.ReadFromJsonAsync<JsonElement>(Json)).Select(r => r.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        var summer = results.Single(r => r.GetProperty("fileName").GetString() == "summer.jpg");
        Assert.Equal(("2023-07-04T18:30:00+02:00", "exif", 64, 48, "jpeg"), (summer.GetProperty("takenAt").GetString(), summer.GetProperty("takenAtSource").GetString(),
            summer.GetProperty("width").GetInt32(), summer.GetProperty("height").GetInt32(), summer.GetProperty("format").GetString()));
        var winter = results.Single(r => r.GetProperty("fileName").GetString() == "winter.jpg");
        Assert.Equal("2023-12-25T10:00:00", winter.GetProperty("takenAt").GetString());   // no offset in the EXIF: none sent
        var horse = results.Single(r => r.GetProperty("fileName").GetString() == "horse.png");
        Assert.Equal(("filetime", "png"), (horse.GetProperty("takenAtSource").GetString(), horse.GetProperty("format").GetString()));
    }

    [Fact]
    public async Task Search_SortDatePaged_PagesThroughTheSameDateOrderedResults()
    {
        var pages = new List<string?>();
        for (var offset = 0; offset < NewestFirst.Length; offset += 4)
        {
            using var response = await Client.PostAsJsonAsync("/api/search", new { text = "a photo", k = 4, offset, sort = "date" });
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
            Assert.Equal(NewestFirst.Length, page.GetProperty("total").GetInt32());
            pages.AddRange(Results(page).Select(r => r.GetProperty("fileName").GetString()));
        }

        Assert.Equal(NewestFirst, pages);
    }

    [Theory]
    [InlineData("{\"text\": \"a\", \"from\": \"2023-13\"}", "filter-bad-date", "'2023-13' is not a date: give YYYY-MM-DD, YYYY-MM or YYYY.")]
    [InlineData("{\"text\": \"a\", \"to\": \"last summer\"}", "filter-bad-date", "'last summer' is not a date: give YYYY-MM-DD, YYYY-MM or YYYY.")]
    [InlineData("{\"text\": \"a\", \"from\": \"2024\", \"to\": \"2023\"}", "filter-bad-range", "The date range ends before it starts (from 2024 to 2023).")]
    [InlineData("{\"text\": \"a\", \"types\": \"jpeg,bmpx\"}", "filter-bad-type", "'bmpx' is not an image type; the types: jpeg, png, webp, gif, bmp, heic, avif, tiff, jxl, raw.")]
    [InlineData("{\"text\": \"a\", \"sort\": \"newest\"}", "sort-unknown", "'newest' is not an order: give relevance or date.")]
    [InlineData("{\"text\": \"a\", \"folder\": \"photos/2023\"}", "filter-relative-folder", "The folder 'photos/2023' is not an absolute path: give a folder on the server as GET /api/library/folders/tree lists them.")]
    [InlineData("{\"text\": \"a\", \"folder\": 3}", "other", null)]
    public async Task Search_BadFilter_Returns400WithTheMessageAndCode(string body, string code, string? detail)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/search", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        if (detail is not null)
        {
            Assert.Equal(detail, problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task Browse_NewestFirst_PagedWithTheTotal()
    {
        var names = new List<string?>();
        for (var offset = 0; offset < 8; offset += 2)
        {
            var page = await Client.GetFromJsonAsync<JsonElement>($"/api/library/images?sort=date&offset={offset}&limit=2", Json);
            Assert.Equal((6, offset), (page.GetProperty("total").GetInt32(), page.GetProperty("offset").GetInt32()));
            names.AddRange(page.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("fileName").GetString()));
        }

        Assert.Equal(NewestFirst, names);
        var first = (await Client.GetFromJsonAsync<JsonElement>("/api/library/images?limit=1", Json)).GetProperty("images")[0];
        Assert.Equal(("2025-01-02T08:00:00", "jpeg", 24, 16), (first.GetProperty("takenAt").GetString(), first.GetProperty("format").GetString(),
            first.GetProperty("width").GetInt32(), first.GetProperty("height").GetInt32()));
        Assert.Equal(new FileInfo(library.Path("more/late.jpg")).Length, first.GetProperty("bytes").GetInt64());
        using var thumbnail = await Client.GetAsync(first.GetProperty("thumbnailUrl").GetString());
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
    }

    [Fact]
    public async Task Browse_Filtered_GivesThePassingImagesNewestFirst()
    {
        var folder = Uri.EscapeDataString(library.Path("photos"));
        var page = await Client.GetFromJsonAsync<JsonElement>($"/api/library/images?folder={folder}&types=jpeg&types=png&from=2023-12", Json);

        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal(["horse.png", "spring.jpg", "winter.jpg"], page.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("fileName").GetString()));
    }

    [Theory]
    [InlineData("limit=0", "bad-limit")]
    [InlineData("limit=201", "bad-limit")]
    [InlineData("offset=-1", "other")]
    [InlineData("sort=relevance", "sort-unknown")]
    [InlineData("sort=newest", "sort-unknown")]
    [InlineData("from=2024-02-30", "filter-bad-date")]
    [InlineData("types=mov", "filter-bad-type")]
    [InlineData("folder=relative", "filter-relative-folder")]
    public async Task Browse_BadQuery_Returns400(string query, string code)
    {
        using var response = await Client.GetAsync($"/api/library/images?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Months_CountImagesPerMonthNewestFirst_WithTheFilters()
    {
        static async Task<IEnumerable<(int, int, long)>> MonthsAsync(HttpClient client, string query) =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/library/months{query}", Json)).EnumerateArray()
                .Select(m => (m.GetProperty("year").GetInt32(), m.GetProperty("month").GetInt32(), m.GetProperty("images").GetInt64()));

        Assert.Equal([(2025, 1, 1L), (2024, 8, 1L), (2024, 4, 1L), (2023, 12, 1L), (2023, 7, 1L), (2021, 5, 1L)], await MonthsAsync(Client, ""));
        Assert.Equal([(2024, 4, 1L), (2023, 12, 1L), (2023, 7, 1L), (2021, 5, 1L)], await MonthsAsync(Client, $"?types=jpeg&folder={Uri.EscapeDataString(library.Path("photos"))}"));
        using var bad = await Client.GetAsync("/api/library/months?to=never");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task FolderTree_GivesTheLibraryFoldersAndTheirSubfoldersWithCounts()
    {
        var tree = (await Client.GetFromJsonAsync<JsonElement>("/api/library/folders/tree", Json)).EnumerateArray()
            .Select(f => (f.GetProperty("path").GetString(), f.GetProperty("images").GetInt64(), f.GetProperty("isLibraryFolder").GetBoolean()));

        Assert.Equal(
            [(library.Path("more"), 1L, true), (library.Path("photos"), 5L, true), (library.Path("photos/2023"), 2L, false),
             (library.Path("photos/2024"), 3L, false), (library.Path("photos/2024/trip"), 2L, false)],
            tree);
    }

    [Theory]
    [InlineData("/api/library/images")]
    [InlineData("/api/library/months")]
    [InlineData("/api/library/folders/tree")]
    public async Task BrowseRoutes_WithoutTheToken_Return401(string route)
    {
        using var client = library.Server.CreateClient();
        using var response = await client.GetAsync(route);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SessionUploadsServer_FilterOrDateOrder_Returns400_BrowseSaysNoLibrary()
    {
        using var server = TinyClip.Server(true);
        using var client = server.CreateClient();
        using var upload = TinyClip.Form([TinyClip.Image("horse.png")], []);
        using var added = await client.PostAsync("/api/images", upload);
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);

        using var plain = await client.PostAsJsonAsync("/api/search", new { text = "a horse", sort = "relevance" });
        using var filtered = await client.PostAsJsonAsync("/api/search", new { text = "a horse", types = "png" });
        using var byDate = await client.PostAsJsonAsync("/api/search", new { text = "a horse", sort = "date" });
        using var browse = await client.GetAsync("/api/library/images");

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        foreach (var refused in new[] { filtered, byDate })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal(WebErrorCodes.FilterNeedsLibrary, (await refused.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("code").GetString());
        }

        Assert.Equal(HttpStatusCode.BadRequest, browse.StatusCode);
        Assert.Contains("No photo library is open", (await browse.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private string[]? Folders(string? relative) => relative?.Split('|').Select(library.Path).ToArray();

    private static string[] Names(string expected) => expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    private static IEnumerable<JsonElement> Results(JsonElement page) => page.GetProperty("results").EnumerateArray();

    /// <summary>
    /// Two library folders of photos with known dates: EXIF with and without an offset, a PNG and a JPEG with none
    /// (their file times), in subfolders; indexed once for the class.
    /// </summary>
    public sealed class DatedLibrary : IAsyncLifetime
    {
        private readonly TempFolder _scratch = new();
        private readonly TempFolder _files = new();

        public WebApplicationFactory<Program> Server { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public string Path(string relative) => System.IO.Path.Combine(_files.Path, relative);

        public async Task InitializeAsync()
        {
            Jpeg("photos/2023/summer.jpg", 64, 48, "2023:07:04 18:30:00", "+02:00");
            Jpeg("photos/2023/winter.jpg", 48, 64, "2023:12:25 10:00:00", null);
            Jpeg("photos/2024/spring.jpg", 40, 40, "2024:04:01 09:00:00", "-05:00");
            Jpeg("photos/2024/trip/plain.jpg", 32, 32, null, null);
            File.SetLastWriteTimeUtc(Path("photos/2024/trip/plain.jpg"), new DateTime(2021, 5, 10, 12, 0, 0, DateTimeKind.Utc));
            File.Copy(TinyClip.Image("horse.png"), Path("photos/2024/trip/horse.png"));   // no date inside: its file time
            File.SetLastWriteTimeUtc(Path("photos/2024/trip/horse.png"), new DateTime(2024, 8, 20, 12, 0, 0, DateTimeKind.Utc));
            Jpeg("more/late.jpg", 24, 16, "2025:01:02 08:00:00", null);

            Server = TinyClip.Server(true, ("ClipSearch:Library", _scratch.File("library.db")), ("ClipSearch:Token", Token));
            Client = Server.CreateClient();
            Client.DefaultRequestHeaders.Add(TokenGate.HeaderName, Token);
            var host = Server.Services.GetRequiredService<LibraryHost>();
            foreach (var folder in new[] { "photos", "more" })
            {
                using var response = await Client.PostAsJsonAsync("/api/library/folders", new { path = Path(folder) });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                await host.WaitAsync().WaitAsync(TimeSpan.FromMinutes(2));
                Assert.Null(host.State.LastError);
            }
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await Server.DisposeAsync();
            _files.Dispose();
            _scratch.Dispose();
        }

        private void Jpeg(string relative, int width, int height, string? taken, string? offset)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path(relative))!);
            File.WriteAllBytes(Path(relative), ExifJpegs.Bytes(width, height, exif =>
            {
                if (taken is not null)
                {
                    exif.SetValue(ExifTag.DateTimeOriginal, taken);
                }

                if (offset is not null)
                {
                    exif.SetValue(ExifTag.OffsetTimeOriginal, offset);
                }
            }));
        }
    }
}
