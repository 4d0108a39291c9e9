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

/// <summary>A search result: the best-matching file, its score, and the other files with the same content.</summary>
/// <param name="Path">The file (the first path, in ordinal order, of its content).</param>
/// <param name="Score">Cosine similarity to the query.</param>
/// <param name="Copies">Other files with byte-identical content.</param>
public sealed record SearchResult(string Path, float Score, IReadOnlyList<string> Copies);

/// <summary>How a library is opened.</summary>
public sealed record LibraryOptions
{
    /// <summary>In-memory search (float16, HNSW threshold).</summary>
    public SearchOptions Search { get; init; } = new();
}

/// <summary>
/// A photo library: what the command line and a web front end call. Index folders (progress as events and
/// through <see cref="IProgress{T}"/>), search by text, image or combined queries, list near-duplicates and
/// files that failed. One instance may serve searches while it indexes. The library records the model's
/// identity and refuses another model (or re-embeds everything when asked).
/// </summary>
public sealed class ImageLibrary : IAsyncDisposable
{
    private const string ModelSignatureSetting = "model_files";
    private static readonly ConditionalWeakTable<ClipModel, ModelIdentity> _identities = [];
    private readonly LibrarySearcher _searcher;
    private readonly string? _hnswPath;
    private readonly LibraryOptions _options;

    private ImageLibrary(ILibraryStore store, LibraryOptions options)
    {
        Store = store;
        _options = options;
        var search = store is SqliteLibraryStore sqlite && options.Search.HnswPath is null
            ? options.Search with { HnswPath = sqlite.Path + ".hnsw" }
            : options.Search;
        _searcher = new LibrarySearcher(store, search);
        _hnswPath = search.HnswPath;
    }

    /// <summary>Raised after each committed batch of an indexing run, and at its phases.</summary>
    public event EventHandler<IndexProgress>? IndexProgressChanged;

    /// <summary>The store.</summary>
    public ILibraryStore Store { get; }

    /// <summary>Where the library is.</summary>
    public string Location => Store.Description;

    /// <summary>The searcher (in-memory vectors and HNSW graph).</summary>
    public LibrarySearcher Searcher => _searcher;

    /// <summary>Opens the library at <paramref name="location"/> (see <see cref="LibraryLocation"/>; null: the default file).</summary>
    public static async Task<ImageLibrary> OpenAsync(string? location, LibraryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var store = await LibraryLocation.OpenAsync(location, cancellationToken).ConfigureAwait(false);
        return new ImageLibrary(store, options ?? new LibraryOptions());
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
        var recorded = await Store.GetModelAsync(cancellationToken).ConfigureAwait(false);
        var signature = ModelIdentity.FilesSignature(model);
        if (recorded is not null && recorded.Variant == model.Folder.Variant.Name() && recorded.EmbeddingDim == model.EmbeddingDim
            && await Store.GetSettingAsync(ModelSignatureSetting, cancellationToken).ConfigureAwait(false) == signature)
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

        if (recorded == identity && Store.ReadOnlyReason is not null)
        {
            return;   // the right model; the signature that would spare hashing next time cannot be saved
        }

        CheckWritable();

        if (recorded != identity)
        {
            await Store.SetModelAsync(identity, cancellationToken).ConfigureAwait(false);
        }

        await Store.SetSettingAsync(ModelSignatureSetting, signature, cancellationToken).ConfigureAwait(false);
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
        var result = await new LibraryIndexer(Store, model, options).IndexAsync(folders, relay, cancellationToken).ConfigureAwait(false);
        // Keep the saved HNSW graph up to date (only libraries large enough to have one load their vectors here);
        // a server-side index has its recall measured again when the library has grown or shrunk by a quarter.
        var contents = (await Store.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Contents;
        if (Store is INativeVectorSearch native)
        {
            if (HnswRecallCheck.IsDue(await native.GetRecallAsync(cancellationToken).ConfigureAwait(false), contents))
            {
                await native.CheckRecallAsync(_options.Search.MinimumRecall, cancellationToken).ConfigureAwait(false);
            }
        }
        else if (_options.Search.HnswThreshold > 0 && contents >= _options.Search.HnswThreshold)
        {
            await _searcher.RefreshAsync(cancellationToken).ConfigureAwait(false);
            _searcher.SaveHnsw();
        }

        return result;
    }

    /// <summary>
    /// How searches find their candidates: the HNSW graph's or pgvector index's measured recall, or null for a
    /// library searched exactly because it is below the graph's size threshold.
    /// </summary>
    public async Task<HnswRecall?> GetSearchRecallAsync(CancellationToken cancellationToken = default)
    {
        if (Store is INativeVectorSearch native)
        {
            return await native.GetRecallAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_searcher.HnswRecall is { } loaded)
        {
            return loaded;
        }

        // Vectors not loaded yet (stats, a fresh server): what the saved graph of this model says.
        var model = await Store.GetModelAsync(cancellationToken).ConfigureAwait(false);
        return model is not null && _hnswPath is not null && HnswIndex.ReadCoverage(_hnswPath) is { } saved && saved.ModelHash == model.Hash
            ? saved.Recall
            : null;
    }

    /// <summary>One line for people: how searches find their results in this library, and why.</summary>
    public async Task<string> DescribeSearchAsync(CancellationToken cancellationToken = default)
    {
        if (await GetSearchRecallAsync(cancellationToken).ConfigureAwait(false) is { } recall)
        {
            return recall.Describe();
        }

        if (Store is INativeVectorSearch)
        {
            return $"pgvector HNSW index, ef_search {PostgresLibraryStore.DefaultCandidatesPerResult * HnswRecallCheck.K} (its recall is measured at the end of the next index run)";
        }

        var threshold = _options.Search.HnswThreshold;
        var contents = (await Store.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Contents;
        return threshold <= 0 || contents < threshold
            ? $"exact (an HNSW graph is built from {threshold.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} images on)"
            : "exact until the HNSW graph is built (at the next index run or search)";
    }

    /// <summary>
    /// Searches by <paramref name="query"/> (text, or rclip-style terms, see <see cref="QueryParser"/>) and/or
    /// <paramref name="images"/> (added with weight 1).
    /// </summary>
    public Task<IReadOnlyList<SearchResult>> SearchAsync(ClipModel model, string? query, int k = 10, IReadOnlyList<string>? images = null,
        ImageLoadOptions? loadOptions = null, CancellationToken cancellationToken = default) =>
        GuardAsync(() => SearchCoreAsync(model, query, k, images, loadOptions, cancellationToken));

    private async Task<IReadOnlyList<SearchResult>> SearchCoreAsync(ClipModel model, string? query, int k, IReadOnlyList<string>? images,
        ImageLoadOptions? loadOptions, CancellationToken cancellationToken)
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

        if (await Store.GetModelAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            return [];   // nothing indexed yet
        }

        await CheckModelAsync(model, cancellationToken: cancellationToken).ConfigureAwait(false);
        var vector = QueryEmbedder.Embed(model, terms, loadOptions ?? new ImageLoadOptions());
        return await SearchVectorAsync(vector, k, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Searches by a unit vector.</summary>
    public async Task<IReadOnlyList<SearchResult>> SearchVectorAsync(float[] vector, int k, CancellationToken cancellationToken = default)
    {
        var hits = await _searcher.SearchAsync(vector, k, cancellationToken).ConfigureAwait(false);
        var paths = await Store.GetPathsAsync([.. hits.Select(h => h.ContentId)], cancellationToken).ConfigureAwait(false);
        return [.. hits.Where(h => paths.TryGetValue(h.ContentId, out var p) && p.Count > 0)
            .Select(h => new SearchResult(paths[h.ContentId][0], h.Score, [.. paths[h.ContentId].Skip(1)]))];
    }

    /// <summary>Groups of images whose embeddings have a cosine of at least <paramref name="threshold"/> (copies included).</summary>
    public Task<IReadOnlyList<DuplicateGroup>> FindDuplicatesAsync(float threshold = 0.95f, CancellationToken cancellationToken = default) =>
        GuardAsync(() => FindDuplicatesCoreAsync(threshold, cancellationToken));

    private async Task<IReadOnlyList<DuplicateGroup>> FindDuplicatesCoreAsync(float threshold, CancellationToken cancellationToken)
    {
        if (!(threshold > 0 && threshold <= 1))   // NaN too
        {
            throw new ClipSearchException(ErrorCodes.DuplicatesBadThreshold, $"The similarity threshold must be in (0, 1] (got {threshold}).", [threshold]);
        }

        var searcher = Store is INativeVectorSearch ? new LibrarySearcher(Store, _options.Search with { InMemory = true, HnswPath = null }) : _searcher;
        try
        {
            await searcher.RefreshAsync(cancellationToken).ConfigureAwait(false);
            var groups = DuplicateFinder.Find(searcher, threshold, cancellationToken);
            var exact = searcher.Exact;
            var ids = exact is null ? [] : Enumerable.Range(0, exact.Count).Select(exact.IdAt).ToList();
            var paths = await Store.GetPathsAsync(ids, cancellationToken).ConfigureAwait(false);
            var covered = groups.SelectMany(g => g.Contents).ToHashSet();
            var result = groups.Select(g => new DuplicateGroup([.. g.Contents.SelectMany(c => paths.GetValueOrDefault(c, [])).Order(StringComparer.Ordinal)], g.MinScore))
                .Concat(paths.Where(p => p.Value.Count > 1 && !covered.Contains(p.Key)).Select(p => new DuplicateGroup(p.Value, 1)));
            return [.. result.Where(g => g.Paths.Count > 1).OrderBy(g => g.Paths[0], StringComparer.Ordinal)];
        }
        finally
        {
            if (!ReferenceEquals(searcher, _searcher))
            {
                searcher.Dispose();
            }
        }
    }

    /// <summary>Files that could not be indexed, with the reason.</summary>
    public Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default) => GuardAsync(() => Store.GetErrorsAsync(cancellationToken));

    /// <summary>Counts, folders, model, size.</summary>
    public Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default) => GuardAsync(() => Store.GetStatsAsync(cancellationToken));

    /// <summary>Removes a folder and its files from the library (the files themselves are untouched).</summary>
    /// <exception cref="ClipSearchException"><paramref name="folder"/> is not one of the library's folders (the message lists them), or the library is read-only.</exception>
    public Task RemoveFolderAsync(string folder, CancellationToken cancellationToken = default) => GuardAsync(async () =>
    {
        var full = FolderWalker.FullPath(folder);
        var folders = await Store.GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        if (!folders.Contains(full, StringComparer.Ordinal))
        {
            throw new ClipSearchException(folders.Count == 0
                ? $"{full} is not a folder of the library {Location}: it has none yet."
                : $"{full} is not a folder of the library {Location}; its folders: {string.Join(", ", folders)}.");
        }

        CheckWritable();
        await Store.RemoveFolderAsync(full, cancellationToken).ConfigureAwait(false);
        return true;
    });

    /// <summary>Refuses a change to a library opened read-only, saying why it is read-only.</summary>
    /// <exception cref="ClipSearchException">The library is read-only.</exception>
    public void CheckWritable()
    {
        if (Store.ReadOnlyReason is { } reason)
        {
            throw new ClipSearchException(
                $"The library {Location} is read-only ({reason}): it can be searched, but not indexed or changed. Copy it somewhere writable to index it.");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _searcher.Dispose();
        await Store.DisposeAsync().ConfigureAwait(false);
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

    private sealed class Progress(ImageLibrary owner, IProgress<IndexProgress>? inner) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value)
        {
            inner?.Report(value);
            owner.IndexProgressChanged?.Invoke(owner, value);
        }
    }
}
