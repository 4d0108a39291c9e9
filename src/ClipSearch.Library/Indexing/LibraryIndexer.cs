using System.Diagnostics;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.IO;
using ClipSearch.Core.Model;
using ClipSearch.Core.Pipeline;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Indexing;

/// <summary>How an indexing run reads and commits.</summary>
public sealed record IndexerOptions
{
    /// <summary>Image decoding (see <see cref="ImageLoadOptions"/>).</summary>
    public ImageLoadOptions LoadOptions { get; init; } = new();

    /// <summary>Decoding threads (0: one per core; see <see cref="ClipSearch.Core.Pipeline.ImageEmbeddingPipeline"/>).</summary>
    public int DecoderThreads { get; init; }

    /// <summary>Files claimed, hashed and embedded together; the pipeline restarts between chunks.</summary>
    public int ChunkSize { get; init; } = 1024;

    /// <summary>Files per transaction (0: the model's batch size): a crash loses at most this many.</summary>
    public int CommitBatchSize { get; init; }

    /// <summary>
    /// How long reading a file (to hash it, and to decode it: it replaces <see cref="ImageLoadOptions.ReadTimeout"/>)
    /// or listing a folder may go without progress before it is given up. A file that timed out is recorded as an
    /// error and tried again at the next run; a listing that timed out stops the run.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = RegularFile.DefaultTimeout;

    /// <summary>
    /// The folders a run may read, as real paths (null: any, as the command line does). A folder to index must lie
    /// within one of them, symbolic links resolved; below it, a symbolic link to a folder or an image whose real
    /// target is outside all of them is not followed and is recorded as an error
    /// (<c>… is a symbolic link to X, outside the folders this server may read: it is not read</c>). A server
    /// that lets requests name folders (with allowed roots set) passes its roots here.
    /// </summary>
    public IReadOnlyList<string>? ConfineTo { get; init; }

    /// <summary>
    /// The paths this run may change (null: every path under its folders). The folders are walked as always; a new,
    /// changed or missing file outside the scope is left as the library has it, for a later run. A watcher
    /// (<see cref="Watching.LibraryWatcher"/>) passes the paths whose changes have settled, and leaves out files
    /// still being written.
    /// </summary>
    public Func<string, bool>? Scope { get; init; }
}

/// <summary>
/// Brings a library up to date with its folders. Files whose path, size and modification time are recorded are
/// not read. New and changed files are hashed; a known hash (a moved, renamed or copied file) links to its
/// embedding without inference; the rest go through <see cref="ImageEmbeddingPipeline"/> (decoding ahead of
/// inference) and are committed one transaction per batch as they arrive. Files that disappeared are dropped
/// last, so that a move within one run is recognised. A cancelled run commits what it has finished, and ends within
/// moments whatever a file or the file system does: every read has a timeout and is abandoned on cancellation
/// (see <see cref="RegularFile"/>), and so is a folder listing stuck on a dead mount.
/// </summary>
public sealed class LibraryIndexer(ILibraryStore store, ClipModel model, IndexerOptions? options = null)
{
    private readonly ILibraryStore _store = store;
    private readonly ClipModel _model = model;
    private readonly IndexerOptions _options = options ?? new IndexerOptions();

    /// <summary>The modification time recorded for a file whose read timed out: it differs from any real one, so the next run reads the file again.</summary>
    private const long ReadAgainTicks = 0;

    /// <summary>Indexes <paramref name="folders"/> (they are added to the library).</summary>
    public async Task<IndexResult> IndexAsync(IReadOnlyList<string> folders, IProgress<IndexProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folders);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.ReadTimeout, TimeSpan.Zero);
        if (_options.DecoderThreads != 0)
        {
            Limits.CheckThreads(_options.DecoderThreads, "decoding threads");
        }

        var clock = Stopwatch.StartNew();
        var roots = folders.Select(FolderWalker.FullPath).Distinct(StringComparer.Ordinal).ToList();

        // Each root is looked at only by its walk, on the watched thread: a root on a dead mount stops the run
        // after the timeout (and at once on cancellation) instead of blocking the caller. A root that is missing,
        // or not a folder, stops the run before it is added to the library.
        progress?.Report(new IndexProgress(IndexPhase.Scanning, 0, 0, 0, 0, 0, clock.Elapsed));
        var scanned = new List<ScannedFile>();
        var unlisted = new HashSet<string>(StringComparer.Ordinal);
        var skipped = new Dictionary<string, SkippedFiles>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            var listing = await WalkAsync(root, cancellationToken).ConfigureAwait(false);
            scanned.AddRange(listing.Files);
            unlisted.UnionWith(listing.UnlistedFolders);
            skipped[root] = listing.Skipped;
        }

        await _store.AddFoldersAsync(roots, cancellationToken).ConfigureAwait(false);
        foreach (var (root, walk) in skipped)
        {
            // The walk is complete: what it passed over replaces what the last one did, whatever happens next.
            await _store.SetSkippedAsync(root, walk, cancellationToken).ConfigureAwait(false);
        }

        var stored = new Dictionary<string, StoredFile>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            foreach (var file in await _store.GetFilesUnderAsync(root, cancellationToken).ConfigureAwait(false))
            {
                stored[file.Path] = file;
            }
        }

        scanned = [.. scanned.DistinctBy(f => f.Path, StringComparer.Ordinal)];
        var scope = _options.Scope ?? (_ => true);
        var changed = scanned.Where(f => (!stored.TryGetValue(f.Path, out var s) || s.Size != f.Size || s.ModifiedTicks != f.ModifiedTicks) && scope(f.Path)).ToList();
        var folderProblems = changed.Where(f => f.IsFolder).ToList();
        var pending = changed.Where(f => !f.IsFolder).ToList();
        var present = scanned.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        // A file below a folder that could not be listed is not known to be gone: it stays as it was.
        var missing = stored.Keys.Where(p => !present.Contains(p) && !IsBelowAny(p, unlisted) && scope(p)).Order(StringComparer.Ordinal).ToList();
        var images = scanned.Count(f => !f.IsFolder);

        // Changed files may leave their old content without a file: dropped along with the deleted files, and
        // also when the run is stopped (the next run would see those files as unchanged and never drop it).
        var replacesContent = changed.Any(f => stored.TryGetValue(f.Path, out var s) && s.ContentId is not null);
        var run = new Run(this, pending.Count, clock, progress);
        try
        {
            await run.RecordFolderProblemsAsync(folderProblems, cancellationToken).ConfigureAwait(false);
            foreach (var chunk in pending.Chunk(Math.Max(1, _options.ChunkSize)))
            {
                await run.IndexChunkAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (replacesContent)
        {
            await _store.DeleteFilesAsync([], CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        // Unchanged files recorded before the library kept metadata (or with an older reader) get theirs, without inference.
        var withoutMetadata = scanned.Where(f => !f.IsFolder && stored.TryGetValue(f.Path, out var s) && s.Size == f.Size && s.ModifiedTicks == f.ModifiedTicks
            && s.ContentId is not null && s.MetadataVersion < PhotoMetadata.CurrentVersion).ToList();
        if (withoutMetadata.Count > 0)
        {
            await FillInMetadataAsync(withoutMetadata, cancellationToken).ConfigureAwait(false);
        }

        progress?.Report(run.Progress(IndexPhase.Finishing));
        if (missing.Count > 0 || replacesContent)
        {
            await _store.DeleteFilesAsync(missing, cancellationToken).ConfigureAwait(false);
        }

        progress?.Report(run.Progress(IndexPhase.Done));
        var removed = missing.Count(p => stored[p].Size != ScannedFile.FolderSize);   // a folder's error that went away is no file removed
        return new IndexResult(images, images - pending.Count, run.Embedded, run.Reused, run.Failed, removed, run.SkippedByOthers, clock.Elapsed)
        {
            FolderErrors = scanned.Count - images,
            Skipped = SkippedFiles.SumOutermost(skipped),
        };
    }

    /// <summary>Files read for their metadata alone (an index run filling in a library indexed before it recorded metadata) per transaction.</summary>
    private const int MetadataBatch = 256;

    /// <summary>
    /// <paramref name="file"/>'s metadata from its head (<see cref="PhotoMetadataReader.HeadBytes"/>), read as every
    /// file is (regular files only, within the timeout), or null when it cannot be read or is no image.
    /// </summary>
    private static async Task<PhotoMetadata?> ReadMetadataAsync(ScannedFile file, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var (_, head) = await RegularFile.ReadHeadAsync(file.Path, PhotoMetadataReader.HeadBytes, timeout, cancellationToken).ConfigureAwait(false);
            return PhotoMetadataReader.Read(head, file.Path, new DateTime(file.ModifiedTicks, DateTimeKind.Utc));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads the metadata of unchanged, indexed files that were recorded without it (or with an older reader's), and
    /// records it without touching their embeddings: one head read per file, one transaction per batch, so that a
    /// stopped run keeps what it finished. A library whose files all have it opens no file here.
    /// </summary>
    private async Task FillInMetadataAsync(IReadOnlyList<ScannedFile> files, CancellationToken cancellationToken)
    {
        var threads = _options.DecoderThreads > 0 ? _options.DecoderThreads : Math.Max(1, Environment.ProcessorCount / 2);
        foreach (var batch in files.Chunk(MetadataBatch))
        {
            var read = new PhotoMetadata?[batch.Length];
            await Parallel.ForAsync(0, batch.Length, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, async (i, token) =>
                read[i] = await ReadMetadataAsync(batch[i], _options.ReadTimeout, token).ConfigureAwait(false)).ConfigureAwait(false);
            var found = batch.Zip(read).Where(p => p.Second is not null).Select(p => (p.First.Path, p.Second!)).ToList();
            await _store.SetMetadataAsync(found, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether <paramref name="path"/> lies below one of <paramref name="folders"/> (looked up by each of its parents).</summary>
    private static bool IsBelowAny(string path, HashSet<string> folders)
    {
        if (folders.Count == 0)
        {
            return false;
        }

        for (var parent = Path.GetDirectoryName(path); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (folders.Contains(parent))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Walks <paramref name="root"/> on a thread of its own, watched: cancellation returns at once, and a walk that
    /// lists nothing and looks at no file for <see cref="IndexerOptions.ReadTimeout"/> (stuck in the kernel on a dead
    /// network mount, the root's own status included) stops the run. The walk's thread is then left to end when the
    /// system lets it.
    /// </summary>
    private async Task<FolderListing> WalkAsync(string root, CancellationToken cancellationToken)
    {
        long listed = 0;
        var options = new WalkOptions { Progress = () => Interlocked.Increment(ref listed), ConfineTo = _options.ConfineTo };
        var walk = Task.Factory.StartNew(() => FolderWalker.List(root, options, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var tick = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, _options.ReadTimeout.Ticks / 4 + 1));
        var seen = -1L;
        var quiet = Stopwatch.StartNew();
        while (!walk.IsCompleted)
        {
            await Task.WhenAny(walk, Task.Delay(tick, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (Interlocked.Read(ref listed) is var now && now != seen)
            {
                seen = now;
                quiet.Restart();
            }
            else if (quiet.Elapsed >= _options.ReadTimeout && !walk.IsCompleted)
            {
                throw new ClipSearchException(
                    $"Listing {root} made no progress for {_options.ReadTimeout.TotalSeconds:0.#} s (a hung network mount or disk?): the run stopped, nothing was removed from the library.");
            }
        }

        return await walk.ConfigureAwait(false);
    }

    /// <summary>One run's counters and commit buffer.</summary>
    private sealed class Run(LibraryIndexer owner, int total, Stopwatch clock, IProgress<IndexProgress>? progress)
    {
        private readonly List<IndexedFile> _buffer = [];
        private readonly TimeSpan _started = clock.Elapsed;
        private int _done;

        public int Embedded { get; private set; }

        public int Reused { get; private set; }

        public int Failed { get; private set; }

        public int SkippedByOthers { get; private set; }

        private int CommitBatchSize => owner._options.CommitBatchSize > 0 ? owner._options.CommitBatchSize : owner._model.Options.BatchSize;

        /// <summary>Records the folders that could not be listed, or are not followed, among the errors (not counted as failed files).</summary>
        public async Task RecordFolderProblemsAsync(List<ScannedFile> folders, CancellationToken cancellationToken)
        {
            if (folders.Count == 0)
            {
                return;
            }

            var claimed = await owner._store.ClaimAsync(folders, cancellationToken).ConfigureAwait(false);
            if (claimed.Count > 0)
            {
                await owner._store.CommitAsync([.. claimed.Select(f => new IndexedFile(f, null, null, f.Problem))], cancellationToken).ConfigureAwait(false);
            }
        }

        public IndexProgress Progress(IndexPhase phase)
        {
            var seconds = (clock.Elapsed - _started).TotalSeconds;
            return new IndexProgress(phase, _done, total, Embedded, Reused, Failed, clock.Elapsed) { ImagesPerSecond = seconds > 0 ? _done / seconds : 0 };
        }

        public async Task IndexChunkAsync(ScannedFile[] chunk, CancellationToken cancellationToken)
        {
            var store = owner._store;
            var claimed = await store.ClaimAsync(chunk, cancellationToken).ConfigureAwait(false);
            SkippedByOthers += chunk.Length - claimed.Count;
            total -= chunk.Length - claimed.Count;

            var hashes = new string?[claimed.Count];
            var errors = new string?[claimed.Count];
            var readAgain = new bool[claimed.Count];
            var threads = owner._options.DecoderThreads > 0 ? owner._options.DecoderThreads : Math.Max(1, Environment.ProcessorCount / 2);
            var timeout = owner._options.ReadTimeout;
            var metadata = new PhotoMetadata?[claimed.Count];
            await Parallel.ForAsync(0, claimed.Count, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, async (i, token) =>
            {
                var path = claimed[i].Path;
                if (claimed[i].Problem is { } problem)
                {
                    errors[i] = problem;   // a FIFO, a device, a dangling link…: never opened
                    return;
                }

                try
                {
                    hashes[i] = ContentHasher.Hash(path, timeout, token);
                    metadata[i] = await ReadMetadataAsync(claimed[i], timeout, token).ConfigureAwait(false);
                }
                catch (FileReadTimeoutException e)
                {
                    errors[i] = $"{path} could not be read: {e.Message}; it is tried again at the next run";
                    readAgain[i] = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors[i] = $"{path} could not be read: {e.Message}";
                }
            }).ConfigureAwait(false);
            var metadataOf = new Dictionary<string, PhotoMetadata?>(StringComparer.Ordinal);
            for (var i = 0; i < claimed.Count; i++)
            {
                metadataOf[claimed[i].Path] = metadata[i];
            }


            var known = await store.FindContentsAsync([.. hashes.OfType<string>().Distinct(StringComparer.Ordinal)], cancellationToken).ConfigureAwait(false);
            var toEmbed = new Dictionary<string, List<ScannedFile>>(StringComparer.Ordinal);
            try
            {
                for (var i = 0; i < claimed.Count; i++)
                {
                    if (hashes[i] is not { } hash)
                    {
                        var file = readAgain[i] ? claimed[i] with { ModifiedTicks = ReadAgainTicks } : claimed[i];
                        await AddAsync([new IndexedFile(file, null, null, errors[i])], failed: 1, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    else if (known.ContainsKey(hash))
                    {
                        await AddAsync([new IndexedFile(claimed[i], hash, null, null, metadata[i])], reused: 1, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    else if (toEmbed.TryGetValue(hash, out var same))
                    {
                        same.Add(claimed[i]);
                    }
                    else
                    {
                        toEmbed[hash] = [claimed[i]];
                    }
                }

                var groups = toEmbed.ToList();
                var loadOptions = owner._options.LoadOptions with { ReadTimeout = owner._options.ReadTimeout };
                var pipeline = new ImageEmbeddingPipeline(owner._model, loadOptions, owner._options.DecoderThreads);
                await foreach (var result in pipeline.RunAsync([.. groups.Select(g => g.Value[0].Path)], null, cancellationToken).ConfigureAwait(false))
                {
                    var (hash, files) = groups[result.Index];
                    // The first file carries the new embedding; copies in the same batch link to it.
                    var items = files.Select((f, j) => result.Embedding is null
                        ? new IndexedFile(f, null, null, result.Error, metadataOf[f.Path])
                        : new IndexedFile(f, hash, j == 0 ? result.Embedding : null, null, metadataOf[f.Path])).ToArray();
                    await AddAsync(items, result.Embedding is null ? items.Length : 0, result.Embedding is null ? 0 : items.Length - 1,
                        result.Embedding is null ? 0 : 1, cancellationToken).ConfigureAwait(false);
                }

                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Keep what is finished: the next run starts after it.
                await FlushAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        private async Task AddAsync(IndexedFile[] items, int failed = 0, int reused = 0, int embedded = 0, CancellationToken cancellationToken = default)
        {
            _buffer.AddRange(items);
            Failed += failed;
            Reused += reused;
            Embedded += embedded;
            _done += items.Length;
            if (_buffer.Count >= CommitBatchSize)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            await owner._store.CommitAsync([.. _buffer], cancellationToken).ConfigureAwait(false);
            _buffer.Clear();
            progress?.Report(Progress(IndexPhase.Indexing));
        }
    }
}
