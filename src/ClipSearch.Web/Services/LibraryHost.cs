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
    private readonly Lock _lock = new();
    private ImageLibrary? _library;
    private CancellationTokenSource? _stop;
    private Task _run = Task.CompletedTask;
    private IndexingState _state = new(false, null, null, null, false, null);
    private long _indexed;

    /// <summary>Raised when indexing starts, reports progress or ends.</summary>
    public event Action? Changed;

    /// <summary>The open library, or null (the server uses the session library).</summary>
    public ImageLibrary? Library => _library;

    /// <summary>Files with an embedding, as of the last open, run or removal.</summary>
    public long Indexed => Interlocked.Read(ref _indexed);

    /// <summary>Indexing now.</summary>
    public IndexingState State => _state;

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

        lock (_lock)
        {
            if (_state.Running)
            {
                throw new LibraryBusyException();
            }

            var lease = models.Acquire();
            var stop = new CancellationTokenSource();
            _stop?.Dispose();   // the last run's, ended (Running is false)
            _stop = stop;
            _state = new IndexingState(true, full, null, null, false, null);
            _run = Task.Run(() => RunAsync(library, lease, full, stop.Token));
        }

        Changed?.Invoke();
        return _state;
    }

    /// <summary>Asks the running indexing (if any) to stop after its batch in flight.</summary>
    public IndexingState Stop()
    {
        lock (_lock)
        {
            _stop?.Cancel();
        }

        return _state;
    }

    /// <summary>Waits for the running indexing, if any, to end.</summary>
    public Task WaitAsync() => _run;

    /// <summary>Removes a folder (not while indexing).</summary>
    public async Task RemoveFolderAsync(string? folder, CancellationToken cancellationToken)
    {
        var library = Required;
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new ClipSearchException("Give the folder to remove (?path=…).");
        }

        if (_state.Running)
        {
            throw new LibraryBusyException("The library is indexing; stop it or wait before removing a folder.");
        }

        // The library says when it is not one of its folders (or is read-only).
        await library.RemoveFolderAsync(ServerPaths.Normalize(folder), cancellationToken).ConfigureAwait(false);
        await library.RefreshSearchAsync(cancellationToken).ConfigureAwait(false);
        await CountAsync(library, cancellationToken).ConfigureAwait(false);
        Changed?.Invoke();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (_library is not null)
        {
            await _library.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task CountAsync(ImageLibrary library, CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _indexed, (await library.GetStatsAsync(cancellationToken).ConfigureAwait(false)).Indexed);

    private async Task RunAsync(ImageLibrary library, ModelLease lease, string folder, CancellationToken cancellationToken)
    {
        var progress = new Progress(this);
        try
        {
            // The indexer decodes through the server's decode budget, as every route does; with --allow-root, a
            // link inside the folder to a file or folder outside the roots is not followed.
            var indexing = new IndexerOptions { LoadOptions = decoding.LoadOptions, ConfineTo = paths.Roots.Count > 0 ? paths.Roots : null };
            var result = await library.IndexAsync(lease.Model, [folder], indexing, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
            await library.RefreshSearchAsync(CancellationToken.None).ConfigureAwait(false);
            await CountAsync(library, CancellationToken.None).ConfigureAwait(false);
            _state = _state with { Running = false, Result = result };
        }
        catch (OperationCanceledException)
        {
            _state = _state with { Running = false, Stopped = true };
        }
        catch (ClipSearchException e)
        {
            _state = _state with { Running = false, LastError = e.Message };
        }
#pragma warning disable CA1031 // A background run must end in a state the user sees, whatever went wrong.
        catch (Exception e)
#pragma warning restore CA1031
        {
            log.LogError(e, "Indexing {Folder} failed", folder);
            _state = _state with { Running = false, LastError = $"Indexing stopped unexpectedly: {e.Message}" };
        }
        finally
        {
            lease.Dispose();
        }

        Changed?.Invoke();
    }

    private sealed class Progress(LibraryHost owner) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value)
        {
            owner._state = owner._state with { Progress = value };
            owner.Changed?.Invoke();
        }
    }
}
