using System.Collections.Concurrent;
using System.Numerics.Tensors;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// The images added through the UI or API while the server runs, kept in memory with their thumbnails and
/// embeddings. Embeddings belong to one model load; after a model change they are recomputed on the next search,
/// once: concurrent searches share one refresh per model generation.
/// </summary>
public sealed class SessionImageLibrary(EmbeddingBatcher batcher, ImageDecoding decoding, IOptions<ClipSearchOptions> options, ILogger<SessionImageLibrary> log) : IImageSearch, ISessionUploads
{
    /// <summary>Images decoded and embedded together by a refresh (its crops are held until they are embedded).</summary>
    private const int RefreshChunk = 32;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly object _refreshLock = new();
    private Refresh? _refresh;
    private readonly int _maxImages = options.Value.MaxLibraryImages;
    private readonly long _maxBytes = options.Value.MaxLibraryBytes;

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public ISessionUploads Uploads => this;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ImageEntry>> AddAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken)
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
        var added = new List<ImageEntry>();
        for (var i = 0; i < prepared.Length; i++)
        {
            var image = new ImageEntry(Guid.NewGuid().ToString("N"), uploads[i].FileName);
            _entries[image.Id] = new Entry(image, uploads[i].Bytes, prepared[i].ContentType, prepared[i].Thumbnail, DateTimeOffset.UtcNow)
            {
                Embedded = new Embedded(embeddings[i], model.Generation),
            };
            added.Add(image);
        }

        return added;
    }

    /// <inheritdoc/>
    public async Task<ResultPage> SearchAsync(float[] query, LoadedModel model, PageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(request);
        if (request.NeedsLibrary)
        {
            // Uploads have no folder and no recorded date or type: a filter or a date order would quietly match nothing.
            throw new ClipSearchException(WebErrorCodes.FilterNeedsLibrary,
                "Folder, date and type filters and the date order search a photo library; this server searches the images uploaded this session (no library was opened when it started).");
        }

        await RefreshAsync(model, cancellationToken).ConfigureAwait(false);
        var ranked = _entries.Values
            .Select(e => (Entry: e, e.Embedded))
            .Where(e => e.Embedded.Generation == model.Generation && e.Embedded.Vector is not null && e.Entry.Image.Id != request.ExcludeId)
            .Select(e => (e.Entry, Score: TensorPrimitives.Dot(query, e.Embedded.Vector!)))
            .Where(h => h.Score >= request.MinScore)
            .OrderByDescending(h => h.Score)
            .ThenBy(h => h.Entry.AddedAt)
            .Select(h => new SearchHit(h.Entry.Image.Id, h.Entry.Image.FileName, h.Score))
            .ToArray();
        return new ResultPage(ranked.Length, request.Offset, [.. ranked.Skip(request.Offset).Take(request.K)]);
    }

    /// <inheritdoc/>
    public Task<ImageEntry?> FindAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(id, out var e) ? e.Image : null);

    /// <inheritdoc/>
    public async Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!_entries.TryGetValue(id, out var entry))
        {
            return null;
        }

        await RefreshAsync(model, cancellationToken).ConfigureAwait(false);
        return entry.Embedded is { } e && e.Generation == model.Generation ? e.Vector : null;
    }

    /// <inheritdoc/>
    public Task<OriginalImage?> OriginalAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(id, out var e) ? new OriginalImage(e.Bytes, e.ContentType) : null);

    /// <inheritdoc/>
    public Task<byte[]?> ThumbnailBytesAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(id, out var e) ? e.Thumbnail : null);

    /// <inheritdoc/>
    public IReadOnlyList<ImageEntry> Recent(int count) =>
        [.. _entries.Values.OrderByDescending(e => e.AddedAt).Take(count).Select(e => e.Image)];

    private async Task<(RgbImage Crop, string ContentType, byte[] Thumbnail)> PrepareAsync(Upload upload, LoadedModel model, CancellationToken cancellationToken)
    {
        var contentType = upload.ContentType();
        var crop = await decoding.CropAsync(upload, model.Model, cancellationToken).ConfigureAwait(false);
        var thumbnail = await decoding.ThumbnailAsync(upload.Bytes, upload.FileName, cancellationToken).ConfigureAwait(false);
        return (crop, contentType, thumbnail);
    }

    /// <summary>
    /// Makes every image's embedding <paramref name="model"/>'s. One refresh per model generation runs at a time
    /// and every caller waits for that one; it is no caller's own (a caller that gives up stops waiting, the
    /// refresh goes on for the others), and it holds its own reference on the model. A refresh that ended (done,
    /// failed) while images are still stale, such as ones added meanwhile by a request on the previous model, is
    /// started again by the next caller.
    /// </summary>
    private Task RefreshAsync(LoadedModel model, CancellationToken cancellationToken)
    {
        if (!_entries.Values.Any(e => e.Embedded.Generation < model.Generation))
        {
            return Task.CompletedTask;
        }

        Task shared;
        lock (_refreshLock)
        {
            if (_refresh is { } newer && newer.Generation > model.Generation)
            {
                return Task.CompletedTask;   // a request on a model since replaced: it searches what is of its generation
            }

            if (_refresh is not { } running || running.Generation < model.Generation || running.Task.IsCompleted)
            {
                if (!model.TryAddReference())
                {
                    return Task.CompletedTask;   // unloaded: nothing will be searched with it
                }

                _refresh = new Refresh(model.Generation, Task.Run(() => ReembedAsync(model)));
            }

            shared = _refresh.Task;
        }

        return shared.WaitAsync(cancellationToken);
    }

    // Images embedded by an earlier model are embedded again with this one, a chunk at a time (each image once).
    // An image this model cannot take (its crop fails) is kept, unsearchable with it, and the others go on; the
    // work stops once the model is unloaded or replaced.
    private async Task ReembedAsync(LoadedModel model)
    {
        try
        {
            while (true)
            {
                var stale = _entries.Values.Where(e => e.Embedded.Generation < model.Generation).Take(RefreshChunk).ToArray();
                if (stale.Length == 0 || model.Retired || Volatile.Read(ref _refresh)?.Generation > model.Generation)
                {
                    return;   // done, or the model is gone, or a newer one took over (this one may start before it is recorded)
                }

                var crops = new List<RgbImage>(stale.Length);
                var taken = new List<Entry>(stale.Length);
                foreach (var entry in stale)
                {
                    try
                    {
                        crops.Add(await decoding.CropAsync(new Upload(entry.Image.FileName, entry.Bytes), model.Model, CancellationToken.None).ConfigureAwait(false));
                        taken.Add(entry);
                    }
                    catch (ClipSearchException e)
                    {
                        log.LogWarning("Session image {Name} cannot be embedded with the new model: {Message}", entry.Image.FileName, e.Message);
                        Record(entry, new Embedded(null, model.Generation));
                    }
                }

                var embeddings = crops.Count == 0 ? [] : await batcher.EmbedImagesAsync(model, [.. crops], CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < taken.Count; i++)
                {
                    Record(taken[i], new Embedded(embeddings[i], model.Generation));
                }
            }
        }
        finally
        {
            model.Release();
        }
    }

    // One write of both the vector and its generation: a reader sees the old pair or the new one, never a mix.
    private static void Record(Entry entry, Embedded embedded)
    {
        lock (entry)
        {
            if (entry.Embedded.Generation < embedded.Generation)
            {
                entry.Embedded = embedded;
            }
        }
    }

    private sealed record Refresh(long Generation, Task Task);

    private sealed class Entry(ImageEntry image, byte[] bytes, string contentType, byte[] thumbnail, DateTimeOffset addedAt)
    {
        public ImageEntry Image { get; } = image;

        public byte[] Bytes { get; } = bytes;

        public string ContentType { get; } = contentType;

        public byte[] Thumbnail { get; } = thumbnail;

        public DateTimeOffset AddedAt { get; } = addedAt;

        private Embedded _embedded = new(null, 0);

        /// <summary>The embedding and the model generation it is of (read and replaced whole).</summary>
        public Embedded Embedded { get => Volatile.Read(ref _embedded); set => Volatile.Write(ref _embedded, value); }
    }

    /// <summary>An embedding and the model generation that made it; no vector when that model could not take the image.</summary>
    private sealed record Embedded(float[]? Vector, long Generation);
}
