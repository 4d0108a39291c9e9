using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace ClipSearch.Web.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (random port) built by <see cref="WebApp.Build"/> exactly as
/// <c>clipsearch serve</c> builds it (Production environment: static web assets come from the build manifest), and
/// Debian's Chromium driven by Playwright (never a downloaded browser).
/// </summary>
public sealed class BrowserServer : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private readonly TempFolder _home = new();
    private WebApplication? _app;
    private IPlaywright? _playwright;

    /// <summary>The fake Hugging Face Hub (tiny-clip) the server downloads from; its model store is a scratch folder.</summary>
    internal FakeHub Hub { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public ModelHost Host => _app!.Services.GetRequiredService<ModelHost>();

    public static string ScreenshotFolder { get; } = FindScreenshotFolder();

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium (./test does: apt-get install -y chromium).");
        }

        Hub = await FakeHub.StartAsync(TinyClip.ModelPath);
        _app = WebApp.Build([], new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ClipSearch:Home"] = _home.Path,
            ["ClipSearch:HubEndpoint"] = Hub.Endpoint,
            ["ClipSearch:Threads"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        if (!_app.Environment.IsProduction())
        {
            throw new InvalidOperationException($"The browser tests must run the Production host, as `clipsearch serve` does, not {_app.Environment.EnvironmentName}.");
        }

        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Hub is not null)
        {
            Hub.HoldBodies?.TrySetResult();
            await Hub.DisposeAsync();
        }

        _home.Dispose();
    }

    /// <summary>A new page at 1280×900 in <paramref name="locale"/> (its Accept-Language).</summary>
    public async Task<IPage> NewPageAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            Locale = locale,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        return page;
    }

    /// <summary>Opens <paramref name="path"/> and waits until Blazor's circuit runs the page.</summary>
    public static async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitInteractiveAsync(page);
    }

    public static Task WaitInteractiveAsync(IPage page) =>
        page.Locator(".shell[data-interactive]").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    private static string FindScreenshotFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipSearch.slnx")))
            {
                var folder = Path.Combine(dir.FullName, "artifacts", "screenshots");
                Directory.CreateDirectory(folder);
                return folder;
            }
        }

        return Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "clipsearch-screenshots")).FullName;
    }
}
