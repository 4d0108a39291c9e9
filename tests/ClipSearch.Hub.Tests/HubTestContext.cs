using ClipSearch.Core.Model;

namespace ClipSearch.Hub.Tests;

/// <summary>A fake Hub serving tiny-clip, a scratch store and a downloader pointed at both.</summary>
internal sealed class HubTestContext : IAsyncDisposable
{
    private HubTestContext(FakeHub hub, TempFolder home)
    {
        Hub = hub;
        Home = home;
        Store = new ModelStore(home.File("models"));
    }

    public static string TinyClip => Fixtures.Path("tiny-clip");

    public FakeHub Hub { get; }

    public TempFolder Home { get; }

    public ModelStore Store { get; }

    public string ModelDirectory => Store.DirectoryFor(HubRepo.Default);

    /// <summary>A fake Hub serving <paramref name="folder"/> (default: tiny-clip) as Xenova/clip-vit-base-patch32.</summary>
    public static async Task<HubTestContext> StartAsync(string? folder = null) => new(await FakeHub.StartAsync(folder ?? TinyClip), new TempFolder());

    public HubClient Client(string? token = null) => new(new HubSettings { Endpoint = Hub.Endpoint, Token = token });

    public async Task<DownloadResult> DownloadAsync(DownloadRequest? request = null, string? token = null, IProgress<DownloadProgress>? progress = null)
    {
        using var client = Client(token);
        return await new ModelDownloader(client, Store).DownloadAsync(request ?? Request(), progress);
    }

    public static DownloadRequest Request(params ModelVariant[] variants) => new()
    {
        Variants = variants.Length == 0 ? [ModelVariant.Fp32] : variants,
        RetryDelay = TimeSpan.Zero,
    };

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        Home.Dispose();
    }
}
