using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ClipSearch.Web.Tests;

/// <summary>
/// <see cref="WebApp"/> on a real Kestrel port on 127.0.0.1, started through <see cref="WebApp.StartAsync"/> as
/// <c>clipsearch serve</c> starts it: for tests where the network matters (Host, Origin, what is bound).
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(baseUrl) };
    }

    public string BaseUrl { get; }

    public Uri Uri => new(BaseUrl);

    /// <summary>A client that neither follows redirects nor keeps cookies.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts tiny-clip (unless <paramref name="loaded"/> is false) with <paramref name="settings"/> over the defaults.</summary>
    public static async Task<LoopbackServer> StartAsync(bool loaded = true, params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ClipSearch:Threads"] = "1",
            ["ClipSearch:Home"] = HomeFolder.Value.Path,
            ["ClipSearch:ModelPath"] = loaded ? TinyClip.ModelPath : null,
            ["ClipSearch:Token"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = WebApp.Build([], all);
        await WebApp.StartAsync(app);
        return new LoopbackServer(app, app.Urls.First());
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static readonly Lazy<TempFolder> HomeFolder = new(() =>
    {
        var folder = new TempFolder();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Dispose();
        return folder;
    });
}
