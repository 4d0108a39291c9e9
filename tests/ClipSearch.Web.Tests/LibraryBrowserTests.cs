using Microsoft.AspNetCore.Builder;
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
}
