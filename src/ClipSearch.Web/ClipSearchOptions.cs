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

    /// <summary>Threads used for <see cref="Threads"/> = 0.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
