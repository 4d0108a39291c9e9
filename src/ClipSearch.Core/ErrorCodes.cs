namespace ClipSearch.Core;

/// <summary>
/// The codes of the errors Core, Library and Hub raise (<see cref="ClipSearchException.Code"/>), each with the values
/// it carries in <see cref="ClipSearchException.Arguments"/>, in that order. A code is stable: front ends key their
/// wording on it (the CLI's advice, the web's English and Chinese), and their tests check that every code here has
/// an entry. The broad codes (<see cref="Other"/>, <see cref="ModelLoad"/>, <see cref="NotImage"/>, the <c>hub-…</c>
/// failures) carry no values: their message is the detail.
/// </summary>
public static class ErrorCodes
{
    /// <summary>Any other error a user can cause; no values (the message says it).</summary>
    public const string Other = "other";

    /// <summary>A model folder that does not load; no values (the message names the file and the problem).</summary>
    public const string ModelLoad = "model-load";

    /// <summary>An image that cannot be used; no values (the message names the image and the problem).</summary>
    public const string NotImage = "not-image";

    /// <summary>The model folder given is a file. Values: the file's full path.</summary>
    public const string ModelFolderIsFile = "model-folder-is-file";

    /// <summary>
    /// The model folder has ONNX files, but not those of the variant asked for. Values: the onnx folder, the variant's
    /// name (fp32, quantized, fp16), the files it holds (comma-separated).
    /// </summary>
    public const string ModelVariantMissing = "model-variant-missing";

    /// <summary>
    /// The library holds embeddings of another model. Values: the library's location, the library's model, this model
    /// (both as short descriptions).
    /// </summary>
    public const string LibraryModelMismatch = "library-model-mismatch";

    /// <summary>A folder's removal while an indexing run (in this process or another) holds the library. Values: the library's location.</summary>
    public const string LibraryIndexing = "library-indexing";

    /// <summary>No folder for models and caches: none of CLIPSEARCH_HOME, XDG_CACHE_HOME or a home folder is set; no values.</summary>
    public const string NoHome = "no-home";

    /// <summary>A library search with no query and no image; no values.</summary>
    public const string SearchNothing = "search-nothing";

    /// <summary>A library search for fewer than one result. Values: the number asked for.</summary>
    public const string SearchBadCount = "search-bad-count";

    /// <summary>A duplicate search with a similarity threshold outside (0, 1]. Values: the threshold.</summary>
    public const string DuplicatesBadThreshold = "duplicates-bad-threshold";

    /// <summary>A SQLite file that is not a ClipSearch library (left unchanged). Values: its path, its tables (comma-separated, or none).</summary>
    public const string LibraryNotLibrary = "library-not-library";

    /// <summary>
    /// A SQLite library whose last changes are in its -wal file and cannot be read without writing a -shm file beside
    /// it (left unchanged). Values: its path.
    /// </summary>
    public const string LibraryUnfinishedChanges = "library-unfinished-changes";

    /// <summary>A library location that is not a PostgreSQL connection string. Values: what Npgsql said.</summary>
    public const string LibraryBadConnectionString = "library-bad-connection-string";

    /// <summary>A library location that is not a <c>postgres://user:password@host:port/database</c> URL. Values: the URL.</summary>
    public const string LibraryBadPostgresUrl = "library-bad-postgres-url";

    /// <summary>A model that is not in the model store. Values: the repository (owner/name), the store's folder.</summary>
    public const string ModelNotInstalled = "model-not-installed";

    /// <summary>Not enough free disk space for a download. Values: the bytes needed, the folder, the bytes free.</summary>
    public const string DiskFull = "disk-full";

    /// <summary>The Hub could not be reached; no values.</summary>
    public const string HubUnreachable = "hub-unreachable";

    /// <summary>The Hub refused the repository (401/403); no values.</summary>
    public const string HubUnauthorized = "hub-unauthorized";

    /// <summary>The Hub has no such revision or file (404); no values.</summary>
    public const string HubNotFound = "hub-not-found";

    /// <summary>The Hub answered with another error, or the transfer kept breaking; no values.</summary>
    public const string HubServer = "hub-server";

    /// <summary>A downloaded file had the wrong size or sha256; no values.</summary>
    public const string HubVerification = "hub-verification";

    /// <summary>The downloaded files do not load as a CLIP model; no values.</summary>
    public const string HubLoad = "hub-load";

    /// <summary>There is no such repository on the Hub (404). Values: the repository (owner/name).</summary>
    public const string HubRepositoryNotFound = "hub-repository-not-found";

    /// <summary>
    /// A Hub repository with no ONNX files of the variant asked for. Values: the repository, the variant's name, the
    /// revision.
    /// </summary>
    public const string HubVariantMissing = "hub-variant-missing";

    /// <summary>A filter's date that is not <c>YYYY-MM-DD</c>, <c>YYYY-MM</c> or <c>YYYY</c>. Values: the text given.</summary>
    public const string FilterBadDate = "filter-bad-date";

    /// <summary>A filter's image type that is none of the formats. Values: the name given, the types (comma-separated).</summary>
    public const string FilterBadType = "filter-bad-type";

    /// <summary>A filter's date range that ends before it starts. Values: the start given, the end given.</summary>
    public const string FilterBadRange = "filter-bad-range";

    /// <summary>An order that is neither relevance nor date. Values: the text given.</summary>
    public const string SortUnknown = "sort-unknown";
}
