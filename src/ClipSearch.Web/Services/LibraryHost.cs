using ClipSearch.Core;
using ClipSearch.Library;
using ClipSearch.Library.Indexing;
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
public sealed record IndexingState(bool Running, string? Folder, IndexProgress? Progress, IndexResult? Result, bool Stopped, string? LastError);

/// <summary>
/// Holds the photo library the server was started with (<see cref="ClipSearchOptions.Library"/>) and runs its
/// indexing in the background: one run at a time, progress for the UI and API, stoppable.
/// </summary>
public sealed class LibraryHost(ModelHost models, ServerPaths paths, ImageDecoding decoding, IOptions<ClipSearchOptions> options, ILogger<LibraryHost> log) : IAsyncDisposable
{
    private readonly BackgroundJob<IndexingState> _job = new(new(false, null, null, null, false, null));
    private ImageLibrary? _library;
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
        }
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
            token => RunAsync(library, lease!.Value, full, token),
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
        _job.Update(s => s);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
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

    private async Task<Func<IndexingState, IndexingState>> RunAsync(ImageLibrary library, ModelLease lease, string folder, CancellationToken cancellationToken)
    {
        try
        {
            // The indexer decodes through the server's decode budget, as every route does; with --allow-root, a
            // link inside the folder to a file or folder outside the roots is not followed.
            var indexing = new IndexerOptions { LoadOptions = decoding.LoadOptions, ConfineTo = paths.Roots.Count > 0 ? paths.Roots : null };
            var result = await library.IndexAsync(lease.Model, [folder], indexing, progress: new Progress(_job), cancellationToken: cancellationToken).ConfigureAwait(false);
            await library.RefreshSearchAsync(CancellationToken.None).ConfigureAwait(false);
            await CountAsync(library, CancellationToken.None).ConfigureAwait(false);
            return s => s with { Running = false, Result = result };
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
