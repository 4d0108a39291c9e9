using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// <see cref="IImageSearch"/> over the photo library (<see cref="LibraryHost"/>): the Search tab and
/// <c>/api/search</c> search it. Results get opaque ids (a hash of the path); only ids handed out in results can be
/// read back, so no request ever names a path. Thumbnails are made on demand and cached in memory (bounded).
/// </summary>
public sealed class LibraryImageSearch : IImageSearch, IDisposable
{
    private const int IdHexDigits = 32;
    /// <summary>Bytes of library originals held at once while they are sent, all requests together (a larger file takes all of it).</summary>
    public const long OriginalsBudgetBytes = 512 * DecodeBudget.BytesPerMegabyte;

    /// <summary>Longest wait of a download for room among the originals being sent, then 503.</summary>
    private static readonly TimeSpan OriginalsWait = TimeSpan.FromSeconds(30);

    private readonly LibraryHost _host;
    private readonly ImageDecoding _decoding;
    private readonly Security.ServerPaths _serverPaths;
    private readonly ConcurrentDictionary<string, string> _paths = new(StringComparer.Ordinal);
    private readonly MemoryCache _thumbnails;

    // Originals being sent, apart from the decode budget: a client that reads a download slowly holds its bytes
    // until it is done, and that must not stall thumbnails, searches and the indexer.
    private readonly DecodeBudget _originals = new(OriginalsBudgetBytes);
    private readonly ImageLoadOptions _originalsOptions;

    /// <summary>The originals' budget (tests).</summary>
    internal DecodeBudget OriginalsBudget => _originals;

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
    public Task<IReadOnlyList<LibraryImage>> AddAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken) =>
        throw new ClipSearchException("This server searches the photo library: add folders on the Library tab or with POST /api/library/folders {\"path\": …}.");

    /// <inheritdoc/>
    public async Task<ResultPage> SearchAsync(float[] query, LoadedModel model, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var library = _host.Required;
        var stats = await library.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        if (stats.Model is null || stats.Contents == 0)
        {
            return new ResultPage(0, options.Offset, []);
        }

        await library.CheckModelAsync(model.Model, cancellationToken: cancellationToken).ConfigureAwait(false);
        var wanted = options.Offset + options.K + (options.ExcludeId is null ? 0 : 1);
        var results = await library.SearchVectorAsync(query, wanted, cancellationToken).ConfigureAwait(false);
        var hits = results.Select(r => new SearchHit(Describe(r.Path), r.Score))
            .Where(h => h.Image.Id != options.ExcludeId && h.Score >= options.MinScore)
            .ToArray();
        // The library ranks its k best; when it returned all it was asked for, more may follow.
        var total = results.Count < wanted ? hits.Length : (int)Math.Max(hits.Length, stats.Contents);
        return new ResultPage(total, options.Offset, [.. hits.Skip(options.Offset).Take(options.K)]);
    }

    /// <inheritdoc/>
    public LibraryImage? Find(string id)
    {
        try
        {
            return _paths.TryGetValue(id, out var path) && File.Exists(path) ? Describe(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;   // gone or unreadable since File.Exists: not found
        }
    }

    /// <inheritdoc/>
    public async Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (await ReadablePathAsync(id, cancellationToken).ConfigureAwait(false) is not { } path)
        {
            return null;
        }

        var crop = await _decoding.CropAsync(path, model.Model, cancellationToken).ConfigureAwait(false);
        return await Task.Run(() => model.Model.EmbedImages([crop])[0], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>A regular file only, within the read timeout (a path since replaced by a FIFO or a device, or on a mount
    /// that stopped answering, is not found rather than a request that never ends), read only once its size fits in
    /// the decode budget.</remarks>
    public async Task<OriginalImage?> OriginalAsync(string id, CancellationToken cancellationToken)
    {
        if (await ReadablePathAsync(id, cancellationToken).ConfigureAwait(false) is not { } path)
        {
            return null;
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(OriginalsWait);
            var file = await BudgetedFile.ReadAsync(path, _originalsOptions, static (_, _) => 0, wait.Token).ConfigureAwait(false);
            return new OriginalImage(file.Bytes, file);
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
        if (_thumbnails.TryGetValue(id, out byte[]? cached))
        {
            return cached;
        }

        if (await ReadablePathAsync(id, cancellationToken).ConfigureAwait(false) is not { } path)
        {
            return null;
        }

        byte[] thumbnail;
        try
        {
            // The file's bytes and its decode come from the decode budget together (read only once they fit).
            thumbnail = await _decoding.ThumbnailAsync(path, DisplayName.Of(path), cancellationToken).ConfigureAwait(false);
        }
        catch (ClipSearchException)
        {
            return null;   // gone, unreadable, no longer a regular file or no longer an image since it was indexed
        }

        return _thumbnails.Set(id, thumbnail, new MemoryCacheEntryOptions { Size = thumbnail.Length });
    }

    /// <inheritdoc/>
    public IReadOnlyList<LibraryImage> Recent(int count) => [];

    /// <inheritdoc/>
    public void Dispose() => _thumbnails.Dispose();

    // The file of an id handed out in results, when the server may read it: with --allow-root, its real path must
    // still be under a root or a library folder (a file swapped for a link out of them after indexing is not read).
    private async Task<string?> ReadablePathAsync(string id, CancellationToken cancellationToken)
    {
        if (!_paths.TryGetValue(id, out var path))
        {
            return null;
        }

        if (_serverPaths.Roots.Count == 0)
        {
            return path;
        }

        var folders = await _host.Required.Store.GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        return _serverPaths.MayRead(path, folders) ? path : null;
    }

    private LibraryImage Describe(string path)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..IdHexDigits];
        _paths[id] = path;
        return new LibraryImage(id, DisplayName.Of(path), ContentType(path), File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTimeOffset.MinValue);
    }

    private static string ContentType(string path) => Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".JPG" or ".JPEG" => "image/jpeg",
        ".PNG" => "image/png",
        ".WEBP" => "image/webp",
        ".GIF" => "image/gif",
        ".BMP" => "image/bmp",
        _ => "application/octet-stream",
    };
}
