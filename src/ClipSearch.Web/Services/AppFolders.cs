using ClipSearch.Core;
using ClipSearch.Hub;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// Where the server keeps what outlives it: the model store (<c>HOME/models/</c>, shared with
/// <c>clipsearch model download</c>) caches (<c>HOME/cache/</c>) and the keys that protect the UI's forms (<c>HOME/keys/</c>). HOME is <see cref="ClipSearchOptions.Home"/>,
/// else <c>$CLIPSEARCH_HOME</c>, else <c>~/.cache/clipsearch</c> (see <see cref="ClipSearchHome"/>, the one place that knows).
/// </summary>
public sealed class AppFolders(IOptions<ClipSearchOptions> options)
{
    private readonly Lazy<ModelStore> _store = new(() => new ModelStore(Home(options).Models));

    /// <summary>The model store.</summary>
    public ModelStore Store => _store.Value;

    /// <summary>The cache folder (beside the store's <c>models/</c>).</summary>
    public string Cache => Path.GetFullPath(Home(options).Cache);

    /// <summary>Where the keys of ASP.NET Core's data protection are kept (beside the store's <c>models/</c>).</summary>
    public string Keys => Path.GetFullPath(Home(options).Keys);

    /// <summary>How to reach the Hub: <see cref="ClipSearchOptions.HubEndpoint"/> over <c>HF_ENDPOINT</c>; <c>HF_TOKEN</c> from the environment.</summary>
    public HubSettings Hub
    {
        get
        {
            var settings = HubSettings.FromEnvironment();
            return string.IsNullOrWhiteSpace(options.Value.HubEndpoint) ? settings : settings with { Endpoint = options.Value.HubEndpoint.Trim().TrimEnd('/') };
        }
    }

    private static ClipSearchHome Home(IOptions<ClipSearchOptions> options) =>
        string.IsNullOrWhiteSpace(options.Value.Home) ? ClipSearchHome.FromEnvironment() : ClipSearchHome.At(options.Value.Home);
}
