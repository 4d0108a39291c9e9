using ClipSearch.Core;
using ClipSearch.Library;
using ClipSearch.Library.Indexing;
using ClipSearch.Library.Watching;
using ClipSearch.Web.Security;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>Where indexing stands, for the Library tab and <c>GET /api/library</c>.</summary>
/// <param name="Running">Whether a run is going.</param>
/// <param name="Folder">The folder being (or last) indexed.</param>
/// <param name="Progress">The latest progress report of the run.</param>
/// <param name="Result">What the last finished run did.</param>
/// <param name="Stopped">The last run was stopped before it finished.</param>
/// <param name="LastError">Why the last run failed, if it did.</param>
public sealed record IndexingState(bool Running, string? Folder, IndexProgress? Progress, IndexResult? Result, bool Stopped, string? LastError)
{
    /// <summary>The run is (or was) the watcher's, keeping the folders current, rather than one a user started.</summary>
    public bool ByWatcher { get; init; }
}

/// <summary>
/// Holds the photo library the server was started with (<see cref="ClipSearchOptions.Library"/>) and runs its
/// indexing in the background: one run at a time, progress for the UI and API, stoppable. Unless
/// <see cref="ClipSearchOptions.Watch"/> is off, a <see cref="LibraryWatcher"/> keeps every folder of the library
/// current; its runs are this host's job too (a user's run and the watcher's never overlap: the one that finds the
/// other running waits, the user with a 409, the watcher until the job ends), and folders added or removed here start
/// or stop being watched.
/// </summary>
public sealed class LibraryHost(ModelHost models, ServerPaths paths, ImageDecoding decoding, IOptions<ClipSearchOptions> options, ILogger<LibraryHost> log) : IAsyncDisposable
{
    private readonly BackgroundJob<IndexingState> _job = new(new(false, null, null, null, false, null));
    private ImageLibrary? _library;
    private LibraryWatcher? _watcher;
    private string? _lastWatchError;
    private long _indexed;

    /// <summary>Raised when indexing starts, reports progress or ends.</summary>
    public event Action? Changed
    {
        add => _job.Changed += value;
        remove => _job.Changed -= value;
    }

    /// <summary>The open library, or null (the server uses the session library).</summary>
    public ImageLibrary? Library => _library;

    /// <summary>Files with an embedding, as of the last open, run or removal.</summary>
    public long Indexed => Interlocked.Read(ref _indexed);

    /// <summary>The watcher's state, or null when the folders are not watched (<c>--no-watch</c>, a read-only library, no library).</summary>
    public WatchState? Watch => _watcher?.State;

    /// <summary>Indexing now.</summary>
    public IndexingState State => _job.State;

    /// <summary>The open library, or a 400 saying how to open one.</summary>
    public ImageLibrary Required => _library
        ?? throw new ClipSearchException("No photo library is open: start the server with `clipsearch serve --library PATH`.");

    /// <summary>Opens the configured library (no-op when none is configured).</summary>
    public async Task OpenAsync(CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.Library) && _library is null)
        {
            _library = await ImageLibrary.OpenAsync(options.Value.Library, cancellationToken: cancellationToken).ConfigureAwait(false);
            await CountAsync(_library, cancellationToken).ConfigureAwait(false);
            await StartWatchingAsync(_library, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StartWatchingAsync(ImageLibrary library, CancellationToken cancellationToken)
    {
        var interval = options.Value.CheckedRescanInterval();   // a bad interval stops the start with its message
        if (!options.Value.Watch)
        {
            return;
        }

        try
        {
            library.CheckWritable();
        }
        catch (ClipSearchException e)
        {
            log.LogWarning("The library's folders are not watched: {Reason}", e.Message);
            return;
        }

        var watcher = new LibraryWatcher(WatcherRunAsync, new WatcherOptions { RescanInterval = interval });
        watcher.StateChanged += (_, _) => _job.Update(s => s);
        watcher.Warning += (_, message) => log.LogWarning("{Message}", message);
        watcher.BatchIndexed += (_, batch) => LogBatch(batch);
        _job.Changed += () =>
        {
            if (!_job.IsRunning)
            {
                watcher.Resume();   // a run it was refused for (the job was busy) can go now
            }
        };
        _watcher = watcher;
        watcher.SetFolders(await library.GetFoldersAsync(cancellationToken).ConfigureAwait(false));
        watcher.Start();
    }

    private void LogBatch(WatchBatch batch)
    {
        if (batch.Error is { } error)
        {
            if (Interlocked.Exchange(ref _lastWatchError, error) != error)
            {
                log.LogWarning("Watching: a run failed ({Error}); it is tried again", error);   // once per reason, not at every retry
            }
        }
        else if (batch.Result is { } r)
        {
            Interlocked.Exchange(ref _lastWatchError, null);
            if (r.Embedded + r.Reused + r.Removed + r.Failed > 0)
            {
                log.LogInformation("Watching: {Kind} ({Paths} paths): {Embedded} embedded, {Reused} recognised, {Removed} removed, {Failed} failed",
                    batch.Kind == WatchRunKind.Rescan ? "rescan" : "changes", batch.Paths, r.Embedded, r.Reused, r.Removed, r.Failed);
            }
        }
    }

    /// <summary>The watcher's run: this host's job, or null when it is busy (the watcher tries again when it ends).</summary>
    private async Task<IndexResult?> WatcherRunAsync(IReadOnlyList<string> folders, Func<string, bool>? scope, CancellationToken cancellationToken)
    {
        var library = Required;
        var done = new TaskCompletionSource<IndexResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        ModelLease? lease = null;
        var folder = folders.Count > 0 ? folders[0] : null;
        var started = _job.TryStart(
            () =>
            {
                lease = models.AcquireForBackground();
                return new IndexingState(true, folder, null, null, false, null) { ByWatcher = true };
            },
            async token =>
            {
                try
                {
                    var result = await IndexRunAsync(library, lease!.Value, folders, scope, token).ConfigureAwait(false);
                    done.TrySetResult(result);
                    return s => s with { Running = false, Result = result };
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                    throw;
                }
            },
            s => s with { Running = false, Stopped = true },
            (s, e) => e is OperationCanceledException
                ? s with { Running = false, Stopped = true }
                : s with { Running = false, LastError = Failure(folder ?? "", e) });
        if (!started)
        {
            return null;
        }

        using var stop = cancellationToken.Register(() => _job.Stop());
        return await done.Task.ConfigureAwait(false);
    }

    /// <summary>Starts indexing <paramref name="folder"/> in the background (it becomes one of the library's folders).</summary>
    /// <exception cref="LibraryBusyException">A run is already going.</exception>
    /// <exception cref="ModelNotLoadedException">No model is loaded.</exception>
    /// <exception cref="ClipSearchException">The folder does not exist.</exception>
    /// <exception cref="PathNotAllowedException">The server may not read that folder (see <see cref="ServerPaths"/>).</exception>
    public async Task<IndexingState> StartIndexingAsync(string? folder, CancellationToken cancellationToken = default)
    {
        var library = Required;
        library.CheckWritable();   // before a 202: a read-only library would only fail in the background
        var full = paths.LibraryFolder(folder, await library.GetFoldersAsync(cancellationToken).ConfigureAwait(false));
        if (!Directory.Exists(full))
        {
            throw new ClipSearchException($"The folder {full} does not exist on the server.");
        }

        ModelLease? lease = null;
        var started = _job.TryStart(
            () =>
            {
                lease = models.Acquire();
                return new IndexingState(true, full, null, null, false, null);
            },
            async token =>
            {
                var result = await IndexRunAsync(library, lease!.Value, [full], null, token).ConfigureAwait(false);
                _watcher?.SetFolders(await library.GetFoldersAsync(CancellationToken.None).ConfigureAwait(false));
                return s => s with { Running = false, Result = result };
            },
            s => s with { Running = false, Stopped = true },
            (s, e) => e is OperationCanceledException
                ? s with { Running = false, Stopped = true }
                : s with { Running = false, LastError = Failure(full, e) });
        return started ? _job.State : throw new LibraryBusyException();
    }

    /// <summary>Asks the running indexing (if any) to stop after its batch in flight.</summary>
    public IndexingState Stop()
    {
        _job.Stop();
        return _job.State;
    }

    /// <summary>Waits for the running indexing, if any, to end.</summary>
    public Task WaitAsync() => _job.WaitAsync();

    /// <summary>Removes a folder (not while any indexing run holds the library: 409).</summary>
    public async Task RemoveFolderAsync(string? folder, CancellationToken cancellationToken)
    {
        var library = Required;
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new ClipSearchException("Give the folder to remove (?path=…).");
        }

        // The library says when it is not one of its folders, is read-only, or is being indexed (by this server's run
        // or any other process's): the same checks as `clipsearch library remove`.
        await library.RemoveFolderAsync(ServerPaths.Normalize(folder), cancellationToken).ConfigureAwait(false);
        await library.RefreshSearchAsync(cancellationToken).ConfigureAwait(false);
        await CountAsync(library, cancellationToken).ConfigureAwait(false);
        _watcher?.SetFolders(await library.GetFoldersAsync(cancellationToken).ConfigureAwait(false));
        _job.Update(s => s);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_watcher is not null)
        {
            await _watcher.DisposeAsync().ConfigureAwait(false);
        }

        Stop();
        await _job.WaitAsync().ConfigureAwait(false);
        _job.Dispose();

        if (_library is not null)
        {
            await _library.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task CountAsync(ImageLibrary library, CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _indexed, (await library.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Indexed);

    private async Task<IndexResult> IndexRunAsync(ImageLibrary library, ModelLease lease, IReadOnlyList<string> folders, Func<string, bool>? scope, CancellationToken cancellationToken)
    {
        try
        {
            // The indexer decodes through the server's decode budget, as every route does; with --allow-root, a
            // link inside the folder to a file or folder outside the roots is not followed.
            var indexing = new IndexerOptions { LoadOptions = decoding.LoadOptions, ConfineTo = paths.Roots.Count > 0 ? paths.Roots : null, Scope = scope };
            var result = await library.IndexAsync(lease.Model, folders, indexing, progress: new Progress(_job), cancellationToken: cancellationToken).ConfigureAwait(false);
            await library.RefreshSearchAsync(CancellationToken.None).ConfigureAwait(false);
            await CountAsync(library, CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        finally
        {
            lease.Dispose();
        }
    }

    /// <summary>What the state says of a run that failed: the library's message, or (logged) an unexpected error.</summary>
    private string Failure(string folder, Exception e)
    {
        if (e is ClipSearchException)
        {
            return e.Message;
        }

        log.LogError(e, "Indexing {Folder} failed", folder);
        return $"Indexing stopped unexpectedly: {e.Message}";
    }

    private sealed class Progress(BackgroundJob<IndexingState> job) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value) => job.Update(s => s with { Progress = value });
    }
}
