using System.Runtime.CompilerServices;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using ClipSearch.Library.Storage.Sqlite;

namespace ClipSearch.Library;

/// <summary>
/// A photo library: all that the command line and a web front end call. Index folders (progress as events and
/// through <see cref="IProgress{T}"/>), search by text, image or combined queries or by an indexed image's stored
/// embedding, reach each indexed image by its id (<see cref="IndexedImage"/>: its embedding, its bytes and type),
/// list images, folders, near-duplicates and files that failed. Its store and vector index stay inside. One
/// instance may serve searches while it indexes. The library records the model's identity and refuses another
/// model (or re-embeds everything when asked).
/// </summary>
public sealed class ImageLibrary : IAsyncDisposable
{
    private const string ModelSignatureSetting = "model_files";
    private static readonly ConditionalWeakTable<ClipModel, ModelIdentity> _identities = [];
    private readonly ILibraryStore _store;
    private readonly IVectorIndex _index;

    private ImageLibrary(ILibraryStore store, IVectorIndex index)
    {
        _store = store;
        _index = index;
    }

    /// <summary>Raised after each committed batch of an indexing run, and at its phases.</summary>
    public event EventHandler<IndexProgress>? IndexProgressChanged;

    /// <summary>Where the library is.</summary>
    public string Location => _store.Description;

    /// <summary>
    /// Opens the library at <paramref name="location"/> (see <see cref="LibraryLocation"/>; null: the default file),
    /// with the vector index that fits its store: pgvector for PostgreSQL, in memory for SQLite (its HNSW graph
    /// saved beside the file unless <see cref="VectorIndexOptions.HnswPath"/> says otherwise).
    /// </summary>
    public static async Task<ImageLibrary> OpenAsync(string? location, LibraryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var index = (options ?? new LibraryOptions()).Index;
        if (LibraryLocation.IsPostgres(location))
        {
            var postgres = await PostgresLibraryStore.OpenAsync(LibraryLocation.ConnectionString(location!), cancellationToken).ConfigureAwait(false);
            return new ImageLibrary(postgres, new PgvectorIndex(postgres, index));
        }

        var sqlite = SqliteLibraryStore.Open(LibraryLocation.SqlitePath(location));
        return new ImageLibrary(sqlite, new InMemoryVectorIndex(sqlite, index with { HnswPath = index.HnswPath ?? sqlite.Path + ".hnsw" }));
    }

    /// <summary>The identity of <paramref name="model"/> (hashed once per loaded model).</summary>
    public static ModelIdentity IdentityOf(ClipModel model) => _identities.GetValue(model, ModelIdentity.Of);

    /// <summary>
    /// Checks that the library holds <paramref name="model"/>'s embeddings (recording it in an empty library).
    /// Another model is refused unless <paramref name="reembed"/>, which drops every embedding.
    /// </summary>
    public async Task CheckModelAsync(ClipModel model, bool reembed = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var recorded = await _store.GetModelAsync(cancellationToken).ConfigureAwait(false);
        var signature = ModelIdentity.FilesSignature(model);
        if (recorded is not null && recorded.Variant == model.Folder.Variant.Name() && recorded.EmbeddingDim == model.EmbeddingDim
            && await _store.GetSettingAsync(ModelSignatureSetting, cancellationToken).ConfigureAwait(false) == signature)
        {
            return;   // the very files that were hashed, unchanged: no need to read them again
        }

        var identity = IdentityOf(model);
        if (recorded is not null && recorded != identity && !reembed)
        {
            throw new ClipSearchException(ErrorCodes.LibraryModelMismatch,
                $"The library {Location} holds embeddings of another model ({recorded.Short}); this model is {identity.Short}.",
                [Location, recorded.Short, identity.Short]);
        }

        if (recorded == identity && _store.ReadOnlyReason is not null)
        {
            return;   // the right model; the signature that would spare hashing next time cannot be saved
        }

        CheckWritable();

        if (recorded != identity)
        {
            await _store.SetModelAsync(identity, cancellationToken).ConfigureAwait(false);
        }

        await _store.SetSettingAsync(ModelSignatureSetting, signature, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Indexes <paramref name="folders"/> with <paramref name="model"/>, then brings the search index up to date.</summary>
    public Task<IndexResult> IndexAsync(ClipModel model, IReadOnlyList<string> folders, IndexerOptions? options = null, bool reembed = false,
        IProgress<IndexProgress>? progress = null, CancellationToken cancellationToken = default) =>
        GuardAsync(() => IndexCoreAsync(model, folders, options, reembed, progress, cancellationToken));

    private async Task<IndexResult> IndexCoreAsync(ClipModel model, IReadOnlyList<string> folders, IndexerOptions? options, bool reembed,
        IProgress<IndexProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckWritable();
        await CheckModelAsync(model, reembed, cancellationToken).ConfigureAwait(false);
        var relay = new Progress(this, progress);
        await using var hold = await _store.HoldForIndexingAsync(cancellationToken).ConfigureAwait(false);
        var result = await new LibraryIndexer(_store, model, options).IndexAsync(folders, relay, cancellationToken).ConfigureAwait(false);
        // The recall checks' text queries: embedded once per model while its text encoder is loaded, then reused.
        await RecallTextQueries.EnsureAsync(_store, model, cancellationToken).ConfigureAwait(false);
        // Keep the search index up to date: a saved HNSW graph (only libraries large enough to have one load their
        // vectors here), or a server-side index's recall, measured again when the library has grown or shrunk by a quarter.
        var contents = (await _store.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Contents;
        await _index.UpdateAfterIndexingAsync(contents, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// True when an index run should load the model's text encoder: the library has no recall text queries
    /// (<see cref="RecallTextQueries"/>) for its model yet (or no model yet), which the run embeds and stores.
    /// </summary>
    public Task<bool> NeedsTextQueriesAsync(CancellationToken cancellationToken = default) =>
        GuardAsync(async () => await RecallTextQueries.LoadAsync(_store, cancellationToken).ConfigureAwait(false) is null);

    /// <summary>How searches find their results in this library, and why (data: each front end words it).</summary>
    public Task<SearchMethod> DescribeSearchAsync(CancellationToken cancellationToken = default) => GuardAsync(() => _index.DescribeAsync(cancellationToken));

    /// <summary>
    /// Loads what searches need now (the in-memory vectors and graph), so that the next search does not wait for it;
    /// a server calls it after the library changed.
    /// </summary>
    public Task RefreshSearchAsync(CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        await _index.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return true;
    });

    /// <summary>
    /// Searches by <paramref name="query"/> (text, or rclip-style terms, see <see cref="QueryParser"/>) and/or
    /// <paramref name="images"/> (added with weight 1).
    /// </summary>
    /// <remarks>
    /// With <paramref name="filter"/>, only images that pass it (see <see cref="LibraryFilter"/>) are ranked: the
    /// results equal an exact search over them. <see cref="LibrarySort.Date"/> shows the <paramref name="k"/> best
    /// newest first.
    /// </remarks>
    public Task<IReadOnlyList<LibraryHit>> SearchAsync(ClipModel model, string? query, int k = 10, IReadOnlyList<string>? images = null,
        ImageLoadOptions? loadOptions = null, LibraryFilter? filter = null, LibrarySort sort = LibrarySort.Relevance, CancellationToken cancellationToken = default) =>
        GuardAsync(() => SearchCoreAsync(model, query, k, images, loadOptions, filter, sort, cancellationToken));

    private async Task<IReadOnlyList<LibraryHit>> SearchCoreAsync(ClipModel model, string? query, int k, IReadOnlyList<string>? images,
        ImageLoadOptions? loadOptions, LibraryFilter? filter, LibrarySort sort, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        var terms = new List<QueryTerm>(string.IsNullOrWhiteSpace(query) ? [] : QueryParser.Parse(query));
        terms.AddRange((images ?? []).Select(i => new QueryTerm(i, true, 1)));
        if (terms.Count == 0)
        {
            throw new ClipSearchException(ErrorCodes.SearchNothing, "Nothing to search for: no query and no image.");
        }

        if (k < 1)
        {
            throw new ClipSearchException(ErrorCodes.SearchBadCount, $"The number of results must be at least 1 (got {k}).", [k]);
        }

        if (await _store.GetModelAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            return [];   // nothing indexed yet
        }

        await CheckModelAsync(model, cancellationToken: cancellationToken).ConfigureAwait(false);
        var vector = QueryEmbedder.Embed(model, terms, loadOptions ?? new ImageLoadOptions());
        return await SearchVectorCoreAsync(vector, k, null, filter, sort, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Searches by a unit vector: the <paramref name="k"/> best contents (among those with an image that passes
    /// <paramref name="filter"/>), each as its first (passing) image with its copies.
    /// </summary>
    public Task<IReadOnlyList<LibraryHit>> SearchVectorAsync(float[] vector, int k, LibraryFilter? filter = null, LibrarySort sort = LibrarySort.Relevance,
        CancellationToken cancellationToken = default) =>
        GuardAsync(() => SearchVectorCoreAsync(vector, k, null, filter, sort, cancellationToken));

    /// <summary>
    /// "More like this": images like the indexed image <paramref name="id"/>, by its stored embedding (nothing is
    /// decoded or embedded), its own content left out.
    /// </summary>
    /// <exception cref="ClipSearchException">No indexed image has <paramref name="id"/>.</exception>
    public Task<IReadOnlyList<LibraryHit>> SearchLikeAsync(long id, int k, LibraryFilter? filter = null, LibrarySort sort = LibrarySort.Relevance,
        CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        var image = await _store.GetImageAsync(id, cancellationToken).ConfigureAwait(false);
        var vector = image is null ? null : await _store.GetEmbeddingAsync(image.ContentId, cancellationToken).ConfigureAwait(false);
        if (image is null || vector is null)
        {
            throw new ClipSearchException($"The library {Location} has no image with the id {id}.");
        }

        return await SearchVectorCoreAsync(vector, k, image.ContentId, filter, sort, cancellationToken).ConfigureAwait(false);
    });

    /// <summary>The indexed image with <paramref name="id"/> (its path, for display), or null.</summary>
    public Task<IndexedImage?> GetImageAsync(long id, CancellationToken cancellationToken = default) => GuardAsync(() => _store.GetImageAsync(id, cancellationToken));

    /// <summary>A page of the indexed images: those with an id above <paramref name="afterId"/> (0: from the first), in id order.</summary>
    public Task<IReadOnlyList<IndexedImage>> ListImagesAsync(long afterId = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return GuardAsync(() => _store.ListImagesAsync(afterId, limit, cancellationToken));
    }

    /// <summary>The embedding stored for the indexed image <paramref name="id"/> when it was indexed, or null.</summary>
    public Task<float[]?> GetEmbeddingAsync(long id, CancellationToken cancellationToken = default) => GuardAsync(async () =>
        await _store.GetImageAsync(id, cancellationToken).ConfigureAwait(false) is { } image
            ? await _store.GetEmbeddingAsync(image.ContentId, cancellationToken).ConfigureAwait(false)
            : null);

    /// <summary>
    /// The bytes of the indexed image <paramref name="id"/> and their type (sniffed from the bytes, see
    /// <see cref="ImageFormats.ContentTypeOf"/>), or null when no image has that id. The file is read as every image
    /// is: a regular file only, within <paramref name="options"/>' read timeout and size limit, once its size (and
    /// <paramref name="decodeCost"/>, for a caller that decodes it) fits in their budget, held until disposed.
    /// </summary>
    /// <exception cref="ImageLoadException">The file is gone, unreadable, no longer a regular file, or over the limits.</exception>
    public async Task<OpenedImage?> OpenImageAsync(long id, ImageLoadOptions? options = null, DecodeCost? decodeCost = null, CancellationToken cancellationToken = default)
    {
        if (await GetImageAsync(id, cancellationToken).ConfigureAwait(false) is not { } image)
        {
            return null;
        }

        var file = await BudgetedFile.ReadAsync(image.Path, options ?? new ImageLoadOptions(), decodeCost ?? NoDecode, cancellationToken).ConfigureAwait(false);
        return new OpenedImage(image, ImageFormats.ContentTypeOf(file.Bytes), file);
    }

    /// <summary>
    /// A page of the indexed images that pass <paramref name="filter"/>, newest first by date taken (images without
    /// a date last, then by id): what a timeline shows.
    /// </summary>
    public Task<LibraryPage> BrowseAsync(LibraryFilter? filter = null, int offset = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return GuardAsync(() => _store.BrowseAsync(filter ?? LibraryFilter.None, offset, limit, cancellationToken));
    }

    /// <summary>How many images that pass <paramref name="filter"/> were taken in each month, newest first (undated images are not counted).</summary>
    public Task<IReadOnlyList<MonthCount>> GetMonthsAsync(LibraryFilter? filter = null, CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        var taken = await _store.GetTakenAtAsync(filter ?? LibraryFilter.None, cancellationToken).ConfigureAwait(false);
        return (IReadOnlyList<MonthCount>)[.. taken.Select(MetadataColumns.WallClock).GroupBy(t => (t.Year, t.Month))
            .OrderByDescending(g => g.Key.Year).ThenByDescending(g => g.Key.Month)
            .Select(g => new MonthCount(g.Key.Year, g.Key.Month, g.Count()))];
    });

    /// <summary>
    /// The library's folders and every folder below them that holds images, in path order, each with the images in
    /// it and below it: what a folder picker offers.
    /// </summary>
    public Task<IReadOnlyList<FolderCount>> GetFolderTreeAsync(CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        var roots = await _store.GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        var counts = roots.ToDictionary(r => r, _ => 0L, StringComparer.Ordinal);
        foreach (var path in await _store.GetImagePathsAsync(cancellationToken).ConfigureAwait(false))
        {
            var root = roots.Where(r => path.StartsWith(r.EndsWith('/') ? r : r + "/", StringComparison.Ordinal)).MaxBy(r => r.Length);
            for (var folder = Path.GetDirectoryName(path); root is not null && folder is not null && folder.Length >= root.Length; folder = Path.GetDirectoryName(folder))
            {
                counts[folder] = counts.GetValueOrDefault(folder) + 1;
            }
        }

        var rootSet = roots.ToHashSet(StringComparer.Ordinal);
        return (IReadOnlyList<FolderCount>)[.. counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new FolderCount(c.Key, c.Value, rootSet.Contains(c.Key)))];
    });

    private async Task<IReadOnlyList<LibraryHit>> SearchVectorCoreAsync(float[] vector, int k, long? leaveOut, LibraryFilter? filter, LibrarySort sort, CancellationToken cancellationToken)
    {
        var wanted = leaveOut is null ? k : k + 1;
        var filtered = filter is { IsEmpty: false };
        var hits = filtered
            ? await _index.SearchAsync(vector, wanted, filter!, cancellationToken).ConfigureAwait(false)
            : await _index.SearchAsync(vector, wanted, cancellationToken).ConfigureAwait(false);
        var images = await _store.GetImagesOfAsync([.. hits.Select(h => h.ContentId)], cancellationToken).ConfigureAwait(false);
        var result = hits.Select(h => (Hit: h, Images: images.TryGetValue(h.ContentId, out var of) ? Passing(of) : []))
            .Where(h => h.Hit.ContentId != leaveOut && h.Images.Count > 0)
            .Take(k)
            .Select(h => LibraryHit.Of(h.Images, h.Hit.Score));
        return sort == LibrarySort.Date
            ? [.. result.OrderBy(h => h.Metadata is null).ThenByDescending(h => h.Metadata?.TakenAt).ThenByDescending(h => h.Score)]
            : [.. result];

        // A filtered hit shows a file that passes first, its other copies after.
        IReadOnlyList<IndexedImage> Passing(IReadOnlyList<IndexedImage> of) => filtered
            ? [.. of.Where(i => filter!.Passes(i.Path, i.Metadata)), .. of.Where(i => !filter!.Passes(i.Path, i.Metadata))]
            : of;
    }

    /// <summary>
    /// Groups of images whose embeddings have a cosine of at least <paramref name="threshold"/> (byte-identical
    /// copies included), each group's images by path, the groups by their first path.
    /// </summary>
    /// <remarks>
    /// It searches the nearest neighbours of every content in the library (exactly below the HNSW threshold, through
    /// the graph above it; PostgreSQL's vectors are loaded into memory for it), so it costs about as many searches as
    /// the library has images (docs/library.md gives the figures); <paramref name="cancellationToken"/> stops it
    /// between two of them.
    /// </remarks>
    /// <exception cref="ClipSearchException"><paramref name="threshold"/> is not in (0, 1].</exception>
    public Task<IReadOnlyList<DuplicateGroup>> FindDuplicatesAsync(float threshold = DuplicateGroup.DefaultThreshold, CancellationToken cancellationToken = default) =>
        GuardAsync(() => FindDuplicatesCoreAsync(threshold, cancellationToken));

    private async Task<IReadOnlyList<DuplicateGroup>> FindDuplicatesCoreAsync(float threshold, CancellationToken cancellationToken)
    {
        if (!(threshold > 0 && threshold <= 1))   // NaN too
        {
            throw new ClipSearchException(ErrorCodes.DuplicatesBadThreshold, $"The similarity threshold must be in (0, 1] (got {threshold}).", [threshold]);
        }

        var groups = await _index.ScanInMemoryAsync(memory => DuplicateFinder.Find(memory, threshold, cancellationToken), cancellationToken).ConfigureAwait(false);
        // Every indexed image, a page at a time (ids only grow, so it ends), by content: copies and group members alike.
        var byContent = new Dictionary<long, List<IndexedImage>>();
        const int Page = 10_000;
        IReadOnlyList<IndexedImage> page;
        var afterId = 0L;
        do
        {
            page = await _store.ListImagesAsync(afterId, Page, cancellationToken).ConfigureAwait(false);
            foreach (var image in page)
            {
                (byContent.TryGetValue(image.ContentId, out var of) ? of : byContent[image.ContentId] = []).Add(image);
                afterId = image.Id;
            }
        }
        while (page.Count == Page);

        var covered = groups.SelectMany(g => g.Contents).ToHashSet();
        var result = groups.Select(g => new DuplicateGroup(Ordered(g.Contents.SelectMany(c => byContent.GetValueOrDefault(c, []))), g.MinScore))
            .Concat(byContent.Where(p => p.Value.Count > 1 && !covered.Contains(p.Key)).Select(p => new DuplicateGroup(Ordered(p.Value), 1)));
        return [.. result.Where(g => g.Images.Count > 1).OrderBy(g => g.Images[0].Path, StringComparer.Ordinal).ThenBy(g => g.Images[0].Id)];

        static IReadOnlyList<IndexedImage> Ordered(IEnumerable<IndexedImage> images) =>
            [.. images.OrderBy(i => i.Path, StringComparer.Ordinal).ThenBy(i => i.Id)];
    }

    /// <summary>Files that could not be indexed, with the reason.</summary>
    public Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default) => GuardAsync(() => _store.GetErrorsAsync(cancellationToken));

    /// <summary>The library's folders (what an index run without folders indexes).</summary>
    public Task<IReadOnlyList<string>> GetFoldersAsync(CancellationToken cancellationToken = default) => GuardAsync(() => _store.GetFoldersAsync(cancellationToken));

    /// <summary>Counts, folders, model, size.</summary>
    public Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default) => GuardAsync(() => _store.GetStatsAsync(cancellationToken));

    /// <summary>Removes a folder and its files from the library (the files themselves are untouched).</summary>
    /// <exception cref="ClipSearchException"><paramref name="folder"/> is not one of the library's folders (the message lists them), or the library is read-only.</exception>
    public Task RemoveFolderAsync(string folder, CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        var full = FolderWalker.FullPath(folder);
        var folders = await _store.GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (!folders.Contains(full, StringComparer.Ordinal))
        {
            throw new ClipSearchException(folders.Count == 0
                ? $"{full} is not a folder of the library {Location}: it has none yet."
                : $"{full} is not a folder of the library {Location}; its folders: {string.Join(", ", folders)}.");
        }

        CheckWritable();
        if (!await _store.TryRemoveFolderAsync(full, cancellationToken).ConfigureAwait(false))
        {
            throw new ClipSearchException(ErrorCodes.LibraryIndexing,
                $"The library {Location} is being indexed; a folder can be removed once the run ends.", [Location]);
        }

        return true;
    });

    /// <summary>Refuses a change to a library opened read-only, saying why it is read-only.</summary>
    /// <exception cref="ClipSearchException">The library is read-only.</exception>
    public void CheckWritable()
    {
        if (_store.ReadOnlyReason is { } reason)
        {
            throw new ClipSearchException(
                $"The library {Location} is read-only ({reason}): it can be searched, but not indexed or changed. Copy it somewhere writable to index it.");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _index.Dispose();
        await _store.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A database that fails (connection lost, disk full, locked) is a message for the user, not a crash.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException e)
        {
            throw new ClipSearchException($"The library {Location} failed: {e.Message}", e);
        }
    }

    private static long? NoDecode(ReadOnlyMemory<byte> encoded, bool isHead) => 0;

    private sealed class Progress(ImageLibrary owner, IProgress<IndexProgress>? inner) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value)
        {
            inner?.Report(value);
            owner.IndexProgressChanged?.Invoke(owner, value);
        }
    }
}
