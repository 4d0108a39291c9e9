using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Library;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// <see cref="IImageSearch"/> over the photo library (<see cref="LibraryHost"/>): the Search tab and
/// <c>/api/search</c> search it. Images are named by the library's own ids (<see cref="Library.Storage.IndexedImage"/>, in decimal),
/// so no request ever names a path; bytes, types and embeddings come from the library (<see cref="ImageLibrary"/>),
/// "more like this" from the stored embedding. Thumbnails are made on demand and cached in memory (bounded).
/// </summary>
public sealed class LibraryImageSearch : IImageSearch, IDisposable
{
    /// <summary>Bytes of library originals held at once while they are sent, all requests together (a larger file takes all of it).</summary>
    public const long OriginalsBudgetBytes = 512 * DecodeBudget.BytesPerMegabyte;

    /// <summary>Longest wait of a download for room among the originals being sent, then 503.</summary>
    private static readonly TimeSpan OriginalsWait = TimeSpan.FromSeconds(30);

    private readonly LibraryHost _host;
    private readonly ImageDecoding _decoding;
    private readonly Security.ServerPaths _serverPaths;
    private readonly MemoryCache _thumbnails;

    // Originals being sent, apart from the decode budget: a client that reads a download slowly holds its bytes
    // until it is done, and that must not stall thumbnails, searches and the indexer.
    private readonly DecodeBudget _originals = new(OriginalsBudgetBytes);
    private readonly ImageLoadOptions _originalsOptions;

    /// <summary>Creates the adapter.</summary>
    public LibraryImageSearch(LibraryHost host, ImageDecoding decoding, Security.ServerPaths serverPaths, IOptions<ClipSearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _host = host;
        _decoding = decoding;
        _serverPaths = serverPaths;
        _thumbnails = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.MaxThumbnailCacheBytes });
        _originalsOptions = new ImageLoadOptions { Budget = _originals };
    }

    /// <inheritdoc/>
    public int Count => (int)Math.Min(int.MaxValue, _host.Indexed);

    /// <inheritdoc/>
    /// <remarks>None: the photo library's images are its folders' files.</remarks>
    public ISessionUploads? Uploads => null;

    /// <summary>The originals' budget (tests).</summary>
    internal DecodeBudget OriginalsBudget => _originals;

    /// <inheritdoc/>
    public async Task<ResultPage> SearchAsync(float[] query, LoadedModel model, PageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        var library = _host.Required;
        var stats = await library.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        if (stats.Model is null || stats.Contents == 0)
        {
            return new ResultPage(0, request.Offset, []);
        }

        await library.CheckModelAsync(model.Model, cancellationToken: cancellationToken).ConfigureAwait(false);
        var byDate = request.Sort == LibrarySort.Date;
        var wanted = (byDate ? PageRequest.DateSortedResults : request.Offset + request.K) + (request.ExcludeId is null ? 0 : 1);
        var results = await library.SearchVectorAsync(query, wanted, request.Filter, request.Sort, cancellationToken).ConfigureAwait(false);
        // "More like this" leaves out the query image's content, whichever of its copies names the hit.
        var excluded = request.ExcludeId is not null && Parse(request.ExcludeId) is { } key
            ? (await library.GetImageAsync(key, cancellationToken).ConfigureAwait(false))?.Path
            : null;
        var hits = results.Where(r => excluded is null || (r.Path != excluded && !r.Copies.Contains(excluded, StringComparer.Ordinal)))
            .Select(r => new SearchHit(IdOf(r.Id), DisplayName.Of(r.Path), r.Score) { Metadata = r.Metadata })
            .Where(h => h.Id != request.ExcludeId && h.Score >= request.MinScore)
            .Take(wanted - (request.ExcludeId is null ? 0 : 1))
            .ToArray();
        // The library ranks its k best; when it returned all it was asked for, more may follow (at most the images
        // that pass the filter). A date order pages through its fixed best results only.
        var passing = request.Filter is { IsEmpty: false } filter
            ? (await library.BrowseAsync(filter, 0, 1, cancellationToken).ConfigureAwait(false)).Total
            : stats.Contents;
        var total = byDate || results.Count < wanted ? hits.Length : (int)Math.Min(int.MaxValue, Math.Max(hits.Length, passing));
        return new ResultPage(total, request.Offset, [.. hits.Skip(request.Offset).Take(request.K)]);
    }

    /// <inheritdoc/>
    public async Task<ImageEntry?> FindAsync(string id, CancellationToken cancellationToken) =>
        Parse(id) is { } key && await _host.Required.GetImageAsync(key, cancellationToken).ConfigureAwait(false) is { } image
            ? new ImageEntry(id, DisplayName.Of(image.Path))
            : null;

    /// <inheritdoc/>
    /// <remarks>The embedding stored when the image was indexed: nothing is read, decoded or embedded.</remarks>
    public async Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken) =>
        Parse(id) is { } key ? await _host.Required.GetEmbeddingAsync(key, cancellationToken).ConfigureAwait(false) : null;

    /// <inheritdoc/>
    /// <remarks>A regular file only, within the read timeout (a path since replaced by a FIFO or a device, or on a mount
    /// that stopped answering, is not found rather than a request that never ends), read only once its size fits in
    /// the originals' budget.</remarks>
    public async Task<OriginalImage?> OriginalAsync(string id, CancellationToken cancellationToken)
    {
        if (await ReadableAsync(id, cancellationToken).ConfigureAwait(false) is not { } key)
        {
            return null;
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(OriginalsWait);
            var image = await _host.Required.OpenImageAsync(key, _originalsOptions, cancellationToken: wait.Token).ConfigureAwait(false);
            return image is null ? null : new OriginalImage(image.Bytes, image.ContentType, image);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerBusyException($"The server is busy sending other originals ({OriginalsBudgetBytes / DecodeBudget.BytesPerMegabyte} MB at once); try again shortly.", OriginalsWait);
        }
        catch (ImageLoadException)
        {
            return null;   // gone, unreadable or no longer a regular file since it was indexed: not found
        }
    }

    /// <inheritdoc/>
    public async Task<byte[]?> ThumbnailBytesAsync(string id, CancellationToken cancellationToken)
    {
        // Cached by what the id names now (its path and content): an edited file keeps its id, and SQLite hands the
        // ids of removed files out again, so the id alone could show another picture. The lookup also makes a
        // removed image 404 at once.
        if (Parse(id) is not { } parsed || await _host.Required.GetImageAsync(parsed, cancellationToken).ConfigureAwait(false) is not { } image)
        {
            return null;
        }

        var cacheKey = $"{image.Id}:{image.ContentId}:{image.Path}";
        if (_thumbnails.TryGetValue(cacheKey, out byte[]? cached))
        {
            return cached;
        }

        if (await ReadableAsync(id, cancellationToken).ConfigureAwait(false) is not { } key)
        {
            return null;
        }

        byte[]? thumbnail;
        try
        {
            // The file's bytes and its decode come from the decode budget together (read only once they fit).
            thumbnail = await _decoding.ThumbnailAsync((options, cost) => _host.Required.OpenImageAsync(key, options, cost, cancellationToken), id, cancellationToken).ConfigureAwait(false);
        }
        catch (ClipSearchException)
        {
            return null;   // gone, unreadable, no longer a regular file or no longer an image since it was indexed
        }

        return thumbnail is null ? null : _thumbnails.Set(cacheKey, thumbnail, new MemoryCacheEntryOptions { Size = thumbnail.Length });
    }

    /// <inheritdoc/>
    public void Dispose() => _thumbnails.Dispose();

    /// <summary>How the web names the library image <paramref name="id"/>: its decimal digits, one spelling per id.</summary>
    internal static string IdOf(long id) => id.ToString(CultureInfo.InvariantCulture);

    // The library's id in its one spelling (decimal digits, no sign or leading zero), or null: any other string names no image.
    private static long? Parse(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var key) && IdOf(key) == id ? key : null;

    // The id of an image the server may read: with --allow-root, its real path must still be under a root or a
    // library folder (a file swapped for a link out of them after indexing is not read).
    private async Task<long?> ReadableAsync(string id, CancellationToken cancellationToken)
    {
        if (Parse(id) is not { } key)
        {
            return null;
        }

        if (_serverPaths.Roots.Count == 0)
        {
            return key;
        }

        var library = _host.Required;
        var image = await library.GetImageAsync(key, cancellationToken).ConfigureAwait(false);
        return image is not null && _serverPaths.MayRead(image.Path, await library.GetFoldersAsync(cancellationToken).ConfigureAwait(false)) ? key : null;
    }
}
