using System.Collections.Concurrent;
using System.Numerics.Tensors;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// The images added through the UI or API while the server runs, kept in memory with their thumbnails and
/// embeddings. Embeddings belong to one model load; after a model change they are recomputed on the next search.
/// </summary>
public sealed class SessionImageLibrary(EmbeddingBatcher batcher, ImageDecoding decoding, IOptions<ClipSearchOptions> options) : IImageSearch
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly int _maxImages = options.Value.MaxLibraryImages;
    private readonly long _maxBytes = options.Value.MaxLibraryBytes;

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<LibraryImage>> AddAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        ArgumentNullException.ThrowIfNull(model);
        if (_entries.Count + uploads.Count > _maxImages)
        {
            throw new ClipSearchException($"The session library holds at most {_maxImages} images; it has {_entries.Count}.");
        }

        var bytes = _entries.Values.Sum(e => (long)e.Bytes.Length) + uploads.Sum(u => (long)u.Bytes.Length);
        if (bytes > _maxBytes)
        {
            throw new ClipSearchException($"The session library holds at most {_maxBytes / (1024 * 1024)} MB of images; these would take it to {bytes / (1024 * 1024)} MB.");
        }

        var prepared = new (RgbImage Crop, string ContentType, byte[] Thumbnail)[uploads.Count];
        for (var i = 0; i < uploads.Count; i++)
        {
            prepared[i] = await PrepareAsync(uploads[i], model, cancellationToken).ConfigureAwait(false);
        }

        var embeddings = await batcher.EmbedImagesAsync(model, [.. prepared.Select(p => p.Crop)], cancellationToken).ConfigureAwait(false);
        var added = new List<LibraryImage>();
        for (var i = 0; i < prepared.Length; i++)
        {
            var image = new LibraryImage(Guid.NewGuid().ToString("N"), uploads[i].FileName, prepared[i].ContentType, DateTimeOffset.UtcNow);
            _entries[image.Id] = new Entry(image, uploads[i].Bytes, prepared[i].Thumbnail) { Embedding = embeddings[i], Generation = model.Generation };
            added.Add(image);
        }

        return added;
    }

    /// <inheritdoc/>
    public async Task<ResultPage> SearchAsync(float[] query, LoadedModel model, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        await RefreshAsync(model, cancellationToken).ConfigureAwait(false);
        var ranked = _entries.Values
            .Where(e => e.Generation == model.Generation && e.Image.Id != options.ExcludeId)
            .Select(e => new SearchHit(e.Image, TensorPrimitives.Dot(query, e.Embedding!)))
            .Where(h => h.Score >= options.MinScore)
            .OrderByDescending(h => h.Score)
            .ThenBy(h => h.Image.AddedAt)
            .ToArray();
        return new ResultPage(ranked.Length, options.Offset, [.. ranked.Skip(options.Offset).Take(options.K)]);
    }

    /// <inheritdoc/>
    public LibraryImage? Find(string id) => _entries.TryGetValue(id, out var e) ? e.Image : null;

    /// <inheritdoc/>
    public async Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!_entries.TryGetValue(id, out var entry))
        {
            return null;
        }

        await RefreshAsync(model, cancellationToken).ConfigureAwait(false);
        return entry.Embedding;
    }

    /// <inheritdoc/>
    public byte[]? ImageBytes(string id) => _entries.TryGetValue(id, out var e) ? e.Bytes : null;

    /// <inheritdoc/>
    public Task<byte[]?> ThumbnailBytesAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(id, out var e) ? e.Thumbnail : null);

    /// <inheritdoc/>
    public IReadOnlyList<LibraryImage> Recent(int count) =>
        [.. _entries.Values.Select(e => e.Image).OrderByDescending(i => i.AddedAt).Take(count)];

    private async Task<(RgbImage Crop, string ContentType, byte[] Thumbnail)> PrepareAsync(Upload upload, LoadedModel model, CancellationToken cancellationToken)
    {
        var contentType = ImageFiles.ContentType(upload.Bytes, upload.FileName);
        var crop = await decoding.CropAsync(upload, model.Model, cancellationToken).ConfigureAwait(false);
        var thumbnail = await decoding.ThumbnailAsync(upload.Bytes, upload.FileName, cancellationToken).ConfigureAwait(false);
        return (crop, contentType, thumbnail);
    }

    // Images embedded by an earlier model are embedded again with this one.
    private async Task RefreshAsync(LoadedModel model, CancellationToken cancellationToken)
    {
        var stale = _entries.Values.Where(e => e.Generation != model.Generation).ToArray();
        if (stale.Length == 0)
        {
            return;
        }

        var crops = new RgbImage[stale.Length];
        for (var i = 0; i < stale.Length; i++)
        {
            crops[i] = await decoding.CropAsync(new Upload(stale[i].Image.FileName, stale[i].Bytes), model.Model, cancellationToken).ConfigureAwait(false);
        }

        var embeddings = await batcher.EmbedImagesAsync(model, crops, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < stale.Length; i++)
        {
            lock (stale[i])
            {
                stale[i].Embedding = embeddings[i];
                stale[i].Generation = model.Generation;
            }
        }
    }

    private sealed class Entry(LibraryImage image, byte[] bytes, byte[] thumbnail)
    {
        public LibraryImage Image { get; } = image;

        public byte[] Bytes { get; } = bytes;

        public byte[] Thumbnail { get; } = thumbnail;

        public float[]? Embedding { get; set; }

        public long Generation { get; set; }
    }
}
