using System.Diagnostics;
using ClipSearch.Core.Model;
using ClipSearch.Core.Pipeline;
using ClipSearch.Library.Indexing;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Bench;

/// <summary>
/// "Indexing runs at the embedding rate": the plain pipeline over the corpus, then a full index of the same
/// corpus into a fresh SQLite library, with the time spent in the store and in hashing measured separately.
/// </summary>
internal static class IndexingBench
{
    public static async Task RunAsync(string modelDir, string corpus)
    {
        using var model = ClipModel.Load(modelDir, new ModelOptions { Encoders = Encoders.Vision });
        var files = FolderWalker.List(corpus).Files;
        Console.WriteLine($"model {modelDir}, corpus {corpus}: {files.Count} images, {files.Sum(f => f.Size) / 1e6:F0} MB");

        // Warm-up: one batch, so that neither run pays for first-call costs.
        await foreach (var _ in new ImageEmbeddingPipeline(model).RunAsync([.. files.Take(model.Options.BatchSize).Select(f => f.Path)]))
        {
        }

        var plain = Stopwatch.StartNew();
        await foreach (var _ in new ImageEmbeddingPipeline(model).RunAsync([.. files.Select(f => f.Path)]))
        {
        }

        var plainSeconds = plain.Elapsed.TotalSeconds;
        Console.WriteLine($"plain embedding (ImageEmbeddingPipeline): {plainSeconds:F1} s, {files.Count / plainSeconds:F2} images/s");

        var hash = Stopwatch.StartNew();
        foreach (var f in files)
        {
            ContentHasher.Hash(f.Path);
        }

        Console.WriteLine($"SHA-256 of every file, one thread: {hash.Elapsed.TotalSeconds:F2} s");

        var dir = Path.Combine(Path.GetTempPath(), $"bench-index-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            await using (var library = await ImageLibrary.OpenAsync(Path.Combine(dir, "library.db")))
            {
                await library.CheckModelAsync(model);
            }

            await using var store = Storage.Sqlite.SqliteLibraryStore.Open(Path.Combine(dir, "library.db"));
            var timed = new TimedStore(store);
            var index = Stopwatch.StartNew();
            var result = await new LibraryIndexer(timed, model).IndexAsync([corpus]);
            var indexSeconds = index.Elapsed.TotalSeconds;
            Console.WriteLine($"index (walk + hash + embed + commit per batch): {indexSeconds:F1} s, {result.Embedded / indexSeconds:F2} images/s, " +
                $"{(indexSeconds / plainSeconds - 1) * 100:+0.0;-0.0}% vs plain embedding");
            Console.WriteLine($"store calls: {timed.Calls}, {timed.Elapsed.TotalSeconds:F3} s = {timed.Elapsed.TotalSeconds / indexSeconds * 100:F2}% of the run");
            var again = Stopwatch.StartNew();
            var unchanged = await new LibraryIndexer(timed, model).IndexAsync([corpus]);
            Console.WriteLine($"re-run on the unchanged corpus: {again.Elapsed.TotalMilliseconds:F0} ms, {unchanged.Embedded} embedded");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Forwards to a store and adds up the wall time spent in it.</summary>
    private sealed class TimedStore(ILibraryStore inner) : ILibraryStore
    {
        private long _ticks;

        public int Calls { get; private set; }

        public TimeSpan Elapsed => TimeSpan.FromTicks(_ticks);

        public string Description => inner.Description;

        public string? ReadOnlyReason => inner.ReadOnlyReason;

        private async Task<T> Time<T>(Func<Task<T>> call)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                return await call();
            }
            finally
            {
                _ticks += clock.Elapsed.Ticks;
                Calls++;
            }
        }

        private Task Time(Func<Task> call) => Time(async () => { await call(); return 0; });

        public Task<ModelIdentity?> GetModelAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetModelAsync(cancellationToken));

        public Task SetModelAsync(ModelIdentity model, CancellationToken cancellationToken = default) => Time(() => inner.SetModelAsync(model, cancellationToken));

        public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default) => Time(() => inner.GetSettingAsync(key, cancellationToken));

        public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default) => Time(() => inner.SetSettingAsync(key, value, cancellationToken));

        public Task AddFoldersAsync(IEnumerable<string> folders, CancellationToken cancellationToken = default) => Time(() => inner.AddFoldersAsync(folders, cancellationToken));

        public Task<IReadOnlyList<string>> GetFoldersAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetFoldersAsync(cancellationToken));

        public Task<bool> TryRemoveFolderAsync(string folder, CancellationToken cancellationToken = default) => Time(() => inner.TryRemoveFolderAsync(folder, cancellationToken));

        public Task<IAsyncDisposable> HoldForIndexingAsync(CancellationToken cancellationToken = default) => Time(() => inner.HoldForIndexingAsync(cancellationToken));

        public Task SetSkippedAsync(string folder, SkippedFiles skipped, CancellationToken cancellationToken = default) => Time(() => inner.SetSkippedAsync(folder, skipped, cancellationToken));

        public Task<IReadOnlyDictionary<string, SkippedFiles>> GetSkippedAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetSkippedAsync(cancellationToken));

        public Task<IReadOnlyList<StoredFile>> GetFilesUnderAsync(string folder, CancellationToken cancellationToken = default) => Time(() => inner.GetFilesUnderAsync(folder, cancellationToken));

        public Task<IReadOnlyList<ScannedFile>> ClaimAsync(IReadOnlyList<ScannedFile> files, CancellationToken cancellationToken = default) => Time(() => inner.ClaimAsync(files, cancellationToken));

        public Task<IReadOnlyDictionary<string, long>> FindContentsAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default) => Time(() => inner.FindContentsAsync(hashes, cancellationToken));

        public Task CommitAsync(IReadOnlyList<IndexedFile> batch, CancellationToken cancellationToken = default) => Time(() => inner.CommitAsync(batch, cancellationToken));

        public Task<IReadOnlySet<long>> GetContentIdsAsync(LibraryFilter filter, CancellationToken cancellationToken = default) => inner.GetContentIdsAsync(filter, cancellationToken);

        public Task<LibraryPage> BrowseAsync(LibraryFilter filter, int offset, int limit, CancellationToken cancellationToken = default) => inner.BrowseAsync(filter, offset, limit, cancellationToken);

        public Task<IReadOnlyList<long>> GetTakenAtAsync(LibraryFilter filter, CancellationToken cancellationToken = default) => inner.GetTakenAtAsync(filter, cancellationToken);

        public Task<IReadOnlyList<string>> GetImagePathsAsync(CancellationToken cancellationToken = default) => inner.GetImagePathsAsync(cancellationToken);

        public Task SetMetadataAsync(IReadOnlyList<(string Path, ClipSearch.Core.Imaging.PhotoMetadata Metadata)> files, CancellationToken cancellationToken = default) =>
            Time(() => inner.SetMetadataAsync(files, cancellationToken));

        public Task DeleteFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default) => Time(() => inner.DeleteFilesAsync(paths, cancellationToken));

        public Task<StoredVectors> LoadVectorsAsync(long afterId, CancellationToken cancellationToken = default) => Time(() => inner.LoadVectorsAsync(afterId, cancellationToken));

        public Task<long> GetGenerationAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetGenerationAsync(cancellationToken));

        public Task<IReadOnlyDictionary<long, IReadOnlyList<IndexedImage>>> GetImagesOfAsync(IReadOnlyCollection<long> contentIds, CancellationToken cancellationToken = default) => Time(() => inner.GetImagesOfAsync(contentIds, cancellationToken));

        public Task<IndexedImage?> GetImageAsync(long id, CancellationToken cancellationToken = default) => Time(() => inner.GetImageAsync(id, cancellationToken));

        public Task<IReadOnlyList<IndexedImage>> ListImagesAsync(long afterId, int limit, CancellationToken cancellationToken = default) => Time(() => inner.ListImagesAsync(afterId, limit, cancellationToken));

        public Task<float[]?> GetEmbeddingAsync(long contentId, CancellationToken cancellationToken = default) => Time(() => inner.GetEmbeddingAsync(contentId, cancellationToken));

        public Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetErrorsAsync(cancellationToken));

        public Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default) => Time(() => inner.GetStatsAsync(cancellationToken));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
