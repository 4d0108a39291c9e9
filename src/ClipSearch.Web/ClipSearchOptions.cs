namespace ClipSearch.Web;

/// <summary>Settings of the web app (configuration section <c>ClipSearch</c>; <c>clipsearch serve</c> fills them).</summary>
public sealed class ClipSearchOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ClipSearch";

    /// <summary>Where the server listens unless <c>urls</c> says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8766";

    /// <summary>The environment variable that holds the access token.</summary>
    public const string TokenVariable = "CLIPSEARCH_TOKEN";

    /// <summary>A model folder to load at start (optional: the UI and API can load one later).</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The photo library to search and manage (a SQLite file or a PostgreSQL connection string / URL). Empty: the
    /// session library (images uploaded while the server runs).
    /// </summary>
    public string? Library { get; set; }

    /// <summary>
    /// Keep the library's folders current while the server runs (default on; <c>clipsearch serve --no-watch</c> turns
    /// it off): file-system events plus a rescan every <see cref="RescanIntervalSeconds"/> (see
    /// <see cref="ClipSearch.Library.Watching.LibraryWatcher"/>).
    /// </summary>
    public bool Watch { get; set; } = true;

    /// <summary>Seconds between the watcher's rescans of every folder (default 300; 0: none, events alone).</summary>
    public double RescanIntervalSeconds { get; set; } = ClipSearch.Library.Watching.WatcherOptions.DefaultRescanInterval.TotalSeconds;

    /// <summary><see cref="RescanIntervalSeconds"/> as a time (null: no rescan).</summary>
    /// <exception cref="Core.ClipSearchException">Negative, or longer than 30 days.</exception>
    public TimeSpan? CheckedRescanInterval() => RescanIntervalSeconds switch
    {
        0 => null,
        > 0 and <= 30 * 86400 => TimeSpan.FromSeconds(RescanIntervalSeconds),
        _ => throw new Core.ClipSearchException(
            $"The rescan interval (ClipSearch:RescanIntervalSeconds, --rescan-interval) must be 0 (none) or up to 30 days; it is {RescanIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s."),
    };

    /// <summary>Most bytes of library thumbnails kept in memory (default 64 MB).</summary>
    public long MaxThumbnailCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>fp32, quantized or fp16.</summary>
    public string Variant { get; set; } = "fp32";

    /// <summary>ONNX Runtime threads (0: one per core).</summary>
    public int Threads { get; set; }

    /// <summary>
    /// The access token. Required when listening on anything but loopback; when set, every API call and UI session
    /// must present it (<c>Authorization: Bearer</c>, <c>X-ClipSearch-Token</c>, or <c>?token=</c> once in a browser).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// Host names the server answers to besides its IP addresses and <c>localhost</c> (and, beyond loopback, this
    /// machine's name): a name in DNS or <c>/etc/hosts</c>, or the name a reverse proxy forwards; <c>*</c>: any.
    /// Every other <c>Host</c> is refused (a web page whose name resolves to this machine must not reach it).
    /// </summary>
    public IReadOnlyList<string>? AllowedHosts { get; set; }

    /// <summary>
    /// Folders under which requests may name folders to load a model from or to index (the Model and Library tabs,
    /// <c>POST /api/model/load</c>, <c>POST /api/library/folders</c>). Empty: any folder on loopback, none beyond.
    /// </summary>
    public IReadOnlyList<string>? AllowedRoots { get; set; }

    /// <summary>
    /// Immich's machine-learning API (<c>GET /ping</c>, <c>POST /predict</c>): off unless enabled, and then answered
    /// without the token to the client addresses it lists only (docs/security.md).
    /// </summary>
    public ImmichOptions Immich { get; set; } = new();

    /// <summary>
    /// Hosts whose <c>http(s)</c> image URLs <c>POST /v1/embeddings</c> may fetch (names or IP addresses, as the URL
    /// writes them). Empty (the default): none; images come inside the request, as <c>data:</c> URLs.
    /// </summary>
    public IReadOnlyList<string>? EmbedUrlHosts { get; set; }

    /// <summary>Largest JSON request body in bytes (default 1 MB).</summary>
    public long MaxJsonBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest text, label or template in characters (default 10,000; CLIP reads only its first 77 tokens).</summary>
    public int MaxTextLength { get; set; } = 10_000;

    /// <summary>Largest accepted image upload in bytes (default 50 MB).</summary>
    public long MaxImageBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Largest request body in bytes (default 256 MB).</summary>
    public long MaxRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most images in one request.</summary>
    public int MaxImagesPerRequest { get; set; } = 32;

    /// <summary>Most texts or labels in one request.</summary>
    public int MaxTextsPerRequest { get; set; } = 1000;

    /// <summary>Most images the session library holds.</summary>
    public int MaxLibraryImages { get; set; } = 5000;

    /// <summary>Most bytes of images the session library holds (default 2 GB).</summary>
    public long MaxLibraryBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// ClipSearch's home folder: downloaded models go to its <c>models/</c>, caches to its <c>cache/</c>. Empty:
    /// <c>$CLIPSEARCH_HOME</c>, else <c>~/.cache/clipsearch</c> (as the CLI's model commands).
    /// </summary>
    public string? Home { get; set; }

    /// <summary>The Hugging Face Hub (or mirror) downloads come from. Empty: <c>$HF_ENDPOINT</c>, else https://huggingface.co.</summary>
    public string? HubEndpoint { get; set; }

    /// <summary>
    /// Most megabytes (MiB) of decoded pixels held at once by every decode of the server together (model crops,
    /// thumbnails, the library's indexer): see <see cref="Core.Imaging.DecodeBudget"/>. Default 1024; at least what
    /// one image at the 100-megapixel limit needs with its rotated copy (763).
    /// </summary>
    public long DecodeBudgetMegabytes { get; set; } = Core.Imaging.DecodeBudget.DefaultCapacityBytes / Core.Imaging.DecodeBudget.BytesPerMegabyte;

    /// <summary>
    /// Most megabytes (MiB) of uploads that requests hold in memory at once, all requests together (default 512): a
    /// multipart request takes two bytes of it for each byte of its body as the body arrives (texts become UTF-16
    /// strings, files are copied once), held until its response is done, and waits while it is full (see
    /// <see cref="UploadWaitSeconds"/>). At least twice <see cref="MaxImageBytes"/> and a megabyte; one request may use all of it.
    /// </summary>
    public long UploadBudgetMegabytes { get; set; } = 512;

    /// <summary>
    /// Longest wait, in seconds, of an upload for room in the upload budget before it is refused with 503 and
    /// <c>Retry-After</c> (default 30; 1 to 3600).
    /// </summary>
    public int UploadWaitSeconds { get; set; } = 30;

    /// <summary>
    /// Most megabytes (MiB) of zero-shot label embeddings kept per loaded model (default 64, least recently used go
    /// first): ImageNet's 1,000 classes take 2.
    /// </summary>
    public long ZeroShotCacheMegabytes { get; set; } = 64;

    /// <summary>
    /// Whether the server fills the disk cache of the zero-shot presets (their default templates) while no request
    /// uses the model (default off: it spends both cores for a minute or two after start on a machine that may be
    /// doing other work; see <see cref="Services.PresetWarmer"/>).
    /// </summary>
    public bool WarmPresets { get; set; }

    /// <summary>Threads used for <see cref="Threads"/> = 0.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary><see cref="DecodeBudgetMegabytes"/> in bytes, checked against one image at the size limit.</summary>
    /// <exception cref="Core.ClipSearchException">Too small.</exception>
    public long CheckedDecodeBudgetBytes()
    {
        var minimum = Core.Imaging.DecodeBudget.MinimumFor(Core.Imaging.ImageLoadOptions.Default.MaxPixels);
        var minimumMegabytes = (minimum + Core.Imaging.DecodeBudget.BytesPerMegabyte - 1) / Core.Imaging.DecodeBudget.BytesPerMegabyte;
        if (DecodeBudgetMegabytes < minimumMegabytes || DecodeBudgetMegabytes > long.MaxValue / Core.Imaging.DecodeBudget.BytesPerMegabyte)
        {
            throw new Core.ClipSearchException(
                $"The decode budget (ClipSearch:DecodeBudgetMegabytes, --decode-budget-mb) must be at least {minimumMegabytes} MB, what one {ImageLoadOptionsMegapixels()}-megapixel image needs with its rotated copy; it is {DecodeBudgetMegabytes}.");
        }

        return DecodeBudgetMegabytes * Core.Imaging.DecodeBudget.BytesPerMegabyte;
    }

    /// <summary><see cref="UploadWaitSeconds"/>, checked.</summary>
    /// <exception cref="Core.ClipSearchException">Out of range.</exception>
    public TimeSpan CheckedUploadWait() => UploadWaitSeconds is >= 1 and <= 3600
        ? TimeSpan.FromSeconds(UploadWaitSeconds)
        : throw new Core.ClipSearchException($"ClipSearch:UploadWaitSeconds must be from 1 to 3600; it is {UploadWaitSeconds}.");

    /// <summary><see cref="UploadBudgetMegabytes"/> in bytes, checked against one image at <see cref="MaxImageBytes"/>.</summary>
    /// <exception cref="Core.ClipSearchException">Too small.</exception>
    public long CheckedUploadBudgetBytes()
    {
        // One image at its limit, held twice (see UploadBudget), and a megabyte for the rest of its form.
        var minimumMegabytes = ((2 * MaxImageBytes) + Core.Imaging.DecodeBudget.BytesPerMegabyte - 1) / Core.Imaging.DecodeBudget.BytesPerMegabyte + 1;
        if (UploadBudgetMegabytes < minimumMegabytes || UploadBudgetMegabytes > long.MaxValue / Core.Imaging.DecodeBudget.BytesPerMegabyte)
        {
            throw new Core.ClipSearchException(
                $"The upload budget (ClipSearch:UploadBudgetMegabytes) must be at least {minimumMegabytes} MB, what the largest image upload holds while it is read (twice its size, and its form); it is {UploadBudgetMegabytes}.");
        }

        return UploadBudgetMegabytes * Core.Imaging.DecodeBudget.BytesPerMegabyte;
    }

    /// <summary><see cref="ZeroShotCacheMegabytes"/> in bytes (0 keeps nothing: every request embeds its labels).</summary>
    /// <exception cref="Core.ClipSearchException">Negative or absurd.</exception>
    public long CheckedZeroShotCacheBytes()
    {
        if (ZeroShotCacheMegabytes < 0 || ZeroShotCacheMegabytes > long.MaxValue / Core.Imaging.DecodeBudget.BytesPerMegabyte)
        {
            throw new Core.ClipSearchException($"ClipSearch:ZeroShotCacheMegabytes must be 0 or more, not {ZeroShotCacheMegabytes}.");
        }

        return ZeroShotCacheMegabytes * Core.Imaging.DecodeBudget.BytesPerMegabyte;
    }

    private static long ImageLoadOptionsMegapixels() => Core.Imaging.ImageLoadOptions.Default.MaxPixels / 1_000_000;
}

/// <summary>Immich's machine-learning API (configuration section <c>ClipSearch:Immich</c>).</summary>
public sealed class ImmichOptions
{
    /// <summary>The client addresses answered when <see cref="Clients"/> is empty: this machine only.</summary>
    public static readonly IReadOnlyList<string> LoopbackClients = ["127.0.0.0/8", "::1/128"];

    /// <summary>Serve <c>GET /ping</c> and <c>POST /predict</c> (default: off; they are not routes then).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The client networks (CIDR, such as <c>172.16.0.0/12</c>, or single addresses; an entry may hold several
    /// separated by commas) the Immich routes answer, without the token: Immich's server sends none. Empty: loopback
    /// only (<see cref="LoopbackClients"/>).
    /// </summary>
    public IReadOnlyList<string>? Clients { get; set; }

    /// <summary><see cref="Clients"/>, parsed.</summary>
    /// <exception cref="Core.ClipSearchException">An entry is not an address or a network.</exception>
    public Security.ClientNetworks CheckedClients() =>
        Security.ClientNetworks.Parse(Clients is { Count: > 0 } given ? given : LoopbackClients, "--immich-clients (ClipSearch:Immich:Clients)");
}
