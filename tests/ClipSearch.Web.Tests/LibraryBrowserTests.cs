using ClipSearch.Web.Services;
using ImageMagick;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ClipSearch.Web.Tests;

/// <summary>The Library tab in headless Chromium, against a server started with a temporary SQLite library.</summary>
public sealed class LibraryBrowserTests : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
    private readonly TempFolder _home = new();
    private readonly TempFolder _photos = new();
    private WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "horse.png", "chelsea.png", "coffee.png" })
        {
            File.Copy(TinyClip.Image(name), _photos.File(name));
        }

        await File.WriteAllTextAsync(_photos.File("broken.jpg"), "this is not a JPEG");
        File.Copy(TinyClip.Image("horse.png"), _photos.File("broken.CR2"));   // a raw file beside its JPEG: passed over
        foreach (var name in new[] { "clip.mov", "clip2.MOV", "notes.txt" })
        {
            await File.WriteAllTextAsync(_photos.File(name), "");
        }
        _app = WebApp.Build([], new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ClipSearch:Home"] = _home.Path,
            ["ClipSearch:ModelPath"] = TinyClip.ModelPath,
            ["ClipSearch:Threads"] = "1",
            ["ClipSearch:Library"] = _home.File("library.db"),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await _app.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = BrowserServer.Chromium, Headless = true, Args = ChromiumArgs });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _photos.Dispose();
        _home.Dispose();
    }

    [Fact]
    public async Task LibraryTab_AddFolder_IndexesAndShowsCountsAndErrors()
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _app!.Urls.First(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await BrowserServer.GoAsync(page, "/library");
        await page.GetByTestId("library-path").FillAsync(_photos.Path);
        await page.GetByTestId("library-add").ClickAsync();

        await Expect(page.GetByTestId("library-done")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("library-indexed")).ToHaveTextAsync("3");
        await Expect(page.GetByTestId("library-failed")).ToHaveTextAsync("1");
        await Expect(page.GetByTestId("library-skipped")).ToHaveTextAsync("3 files that are not images: .mov ×2, .txt ×1");
        await Expect(page.GetByTestId("library-raw")).ToHaveTextAsync("1 RAW file that has a JPEG or HEIC beside it");
        await Expect(page.GetByTestId("library-folders")).ToContainTextAsync(_photos.Path);
        await Expect(page.GetByTestId("library-errors")).ToContainTextAsync("broken.jpg");
        await Expect(page.GetByTestId("library-search")).ToHaveTextAsync("exact (an HNSW graph is built from 50,000 images on)");
        await BrowserServer.ScreenshotAsync(page, "18-library-indexed");

        await page.GetByTestId("tab-search").ClickAsync();
        await Expect(page.GetByTestId("library-count")).ToHaveTextAsync("3");
        await page.GetByTestId("search-text").FillAsync("a photo of a horse");
        await page.GetByTestId("search-run").ClickAsync();
        await Expect(page.Locator(".results img")).ToHaveCountAsync(3);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.results img')].every(i => i.complete && i.naturalWidth > 0)");
        await BrowserServer.ScreenshotAsync(page, "19-library-search");
        await context.CloseAsync();
    }

    [Fact]
    public async Task SearchFilters_TypeAndFolderNarrowResults_TimelineGroupsByMonthAndOpensAPhotoForMoreLikeThis()
    {
        using var dated = new TempFolder();
        Directory.CreateDirectory(dated.File("trip"));
        await File.WriteAllBytesAsync(dated.File("summer.jpg"), ExifJpegs.Bytes(64, 48, exif => exif.SetValue(ExifTag.DateTimeOriginal, "2023:07:04 18:30:00")));
        await File.WriteAllBytesAsync(dated.File("winter.jpg"), ExifJpegs.Bytes(48, 64, exif => exif.SetValue(ExifTag.DateTimeOriginal, "2024:01:15 09:00:00")));
        File.Copy(TinyClip.Image("horse.png"), dated.File("trip", "horse.png"));   // no date inside: its file time
        File.SetLastWriteTimeUtc(dated.File("trip", "horse.png"), new DateTime(2024, 8, 20, 12, 0, 0, DateTimeKind.Utc));
        var host = _app!.Services.GetRequiredService<LibraryHost>();
        await host.StartIndexingAsync(dated.Path, CancellationToken.None);
        await host.WaitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Null(host.State.LastError);

        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _app.Urls.First(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await BrowserServer.GoAsync(page, "/search");
        await page.GetByTestId("search-text").FillAsync("a photo");
        await page.GetByTestId("search-run").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("result-date")).ToHaveCountAsync(3);

        await page.GetByTestId("filter-type-png").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("result").First).ToContainTextAsync("horse.png");
        await Expect(page.GetByTestId("result-date")).ToHaveTextAsync("2024-08-20");
        await page.GetByTestId("filter-type-png").ClickAsync();
        await page.GetByTestId("filter-type-jpeg").ClickAsync();
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(2);
        await page.GetByTestId("filter-clear").ClickAsync();
        await page.GetByTestId("filter-folder").SelectOptionAsync(dated.File("trip"));
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(1);
        await BrowserServer.ScreenshotAsync(page, "20-search-filters");

        await page.GetByTestId("tab-timeline").ClickAsync();
        var months = page.GetByTestId("timeline-month");
        await Expect(months).ToHaveCountAsync(3);
        Assert.Equal(["2024-08", "2024-01", "2023-07"], await months.EvaluateAllAsync<string[]>("ms => ms.map(m => m.dataset.month)"));
        await Expect(page.GetByTestId("timeline-month-count")).ToHaveTextAsync(["1", "1", "1"]);
        await Expect(page.GetByTestId("timeline-total")).ToHaveTextAsync("3 photos");
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.timeline-photo img')].every(i => i.complete && i.naturalWidth > 0)");
        await BrowserServer.ScreenshotAsync(page, "21-timeline");

        var winter = months.Nth(1).GetByTestId("timeline-photo");
        var id = await winter.GetAttributeAsync("data-id");
        await winter.ClickAsync();
        await Expect(page.GetByTestId("viewer")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("viewer")).ToContainTextAsync("winter.jpg");
        await page.GetByTestId("more-like-this").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/search\\?like={id}$"));
        await BrowserServer.WaitInteractiveAsync(page);
        await Expect(page.GetByTestId("result")).ToHaveCountAsync(2);   // the other two: the photo itself is left out
        Assert.DoesNotContain(id, await page.GetByTestId("result").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.id)"));
        await context.CloseAsync();
    }
}
