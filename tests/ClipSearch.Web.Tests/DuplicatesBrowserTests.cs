using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ClipSearch.Web.Tests;

/// <summary>The Library area's Duplicates view in headless Chromium, against a server with an indexed SQLite library of known near-duplicates.</summary>
public sealed class DuplicatesBrowserTests : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
    private readonly TempFolder _home = new();
    private readonly TempFolder _photos = new();
    private WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        DuplicatesApiTests.WritePhotos(_photos);
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
        var host = _app.Services.GetRequiredService<Services.LibraryHost>();
        await host.StartIndexingAsync(_photos.Path);
        await host.WaitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Null(host.State.LastError);
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
    public async Task DuplicatesTab_ShowsTheGroups_AndTheSliderChangesThem()
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _app!.Urls.First(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        await BrowserServer.GoAsync(page, "/library");
        await page.GetByTestId("library-tab-duplicates").ClickAsync();

        await Expect(page.GetByTestId("dup-threshold-value")).ToHaveTextAsync("0.95");
        await Expect(page.GetByTestId("dup-group")).ToHaveCountAsync(2);
        var horses = page.GetByTestId("dup-group").Nth(1);
        await Expect(horses.GetByTestId("dup-path")).ToHaveTextAsync([_photos.File("horse-copy.png"), _photos.File("horse.png")]);
        await Expect(horses.GetByTestId("dup-size").First).ToContainTextAsync("400×328");
        await Expect(horses.GetByTestId("dup-date").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d$"));
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.dup-group img')].every(i => i.complete && i.naturalWidth > 0)");
        await BrowserServer.ScreenshotAsync(page, "20-library-duplicates");

        await page.GetByTestId("dup-threshold").FillAsync("0.85");

        await Expect(page.GetByTestId("dup-threshold-value")).ToHaveTextAsync("0.85");
        await Expect(page.GetByTestId("dup-group")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("dup-image")).ToHaveCountAsync(4);
        Assert.EndsWith("/library/duplicates?threshold=0.85", page.Url, StringComparison.Ordinal);

        var id = await page.GetByTestId("dup-image").First.GetAttributeAsync("data-id");
        await page.GetByTestId("dup-image").First.ClickAsync();

        await Expect(page.GetByTestId("viewer-image")).ToHaveAttributeAsync("src", $"/api/images/{id}");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('[data-testid=viewer-image]'); return i && i.complete && i.naturalWidth > 0; }");
        await context.CloseAsync();
    }
}
