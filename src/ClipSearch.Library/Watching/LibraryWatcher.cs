using System.Diagnostics;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;

namespace ClipSearch.Library.Watching;

/// <summary>
/// Keeps a library's folders current while it runs: file-system events (<see cref="FolderEvents"/>) mark changed
/// paths, each debounced and settled (<see cref="PendingChanges"/>: a file still being written is read once, when
/// complete), and the settled ones are indexed together by the incremental index (<see cref="WatchIndexRun"/>, the
/// very run <c>clipsearch index</c> makes, limited to those paths: new and changed images embedded, deleted ones
/// dropped, moved and renamed ones linked to their embedding without inference). Events for many files coalesce into
/// one run; events during a run make one more run after it. A periodic rescan (<see cref="WatcherOptions.RescanInterval"/>)
/// indexes every folder as a safety net; it is all there is where events are off or refused, and it follows lost
/// events (a buffer overflow). One background task does all of it; while nothing changes it waits on a signal (and
/// the rescan's timer), using no CPU.
/// </summary>
public sealed class LibraryWatcher : IAsyncDisposable
{
    private readonly WatchIndexRun _index;
    private readonly WatcherOptions _options;
    private readonly Lock _lock = new();
    private readonly PendingChanges _pending;
    private readonly Dictionary<string, FolderEvents?> _folders = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _rescanOnly = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rescanFolders = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Task _pump = Task.CompletedTask;
    private bool _started;
    private bool _stopped;
    private bool _rescanAll;
    private long? _nextRescanAt;
    private long? _retryAt;
    private WatchStatus _status = WatchStatus.Idle;
    private int _indexing;
    private DateTimeOffset? _lastChangeAt;
    private string? _lastChangePath;
    private DateTimeOffset? _lastRescanAt;
    private string? _lastError;
    private object? _lastRaised;

    /// <summary>A watcher that indexes through <paramref name="index"/>; <see cref="SetFolders"/> and <see cref="Start"/> begin it.</summary>
    public LibraryWatcher(WatchIndexRun index, WatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        _index = index;
        _options = options ?? new WatcherOptions();
        _options.Validate();
        _pending = new PendingChanges(_options);
    }

    /// <summary>Raised when the state changes (from the watcher's task).</summary>
    public event EventHandler<WatchState>? StateChanged;

    /// <summary>Raised when a run ends, with what it did.</summary>
    public event EventHandler<WatchBatch>? BatchIndexed;

    /// <summary>
    /// Raised with a message for the log when file-system events of a folder are unavailable (the inotify watch limit
    /// reached, a file system without events) and the folder falls back to the rescan.
    /// </summary>
    public event EventHandler<string>? Warning;

    /// <summary>The state now.</summary>
    public WatchState State
    {
        get
        {
            lock (_lock)
            {
                return Snapshot();
            }
        }
    }

    /// <summary>
    /// The run of the incremental index on <paramref name="library"/> with <paramref name="model"/>, limited to a
    /// watcher's scope (<see cref="IndexerOptions.Scope"/>): what a process that owns the model uses (the command line).
    /// </summary>
    public static WatchIndexRun IndexerFor(ImageLibrary library, ClipModel model, IndexerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(model);
        var given = options ?? new IndexerOptions();
        return async (folders, scope, cancellationToken) =>
            await library.IndexAsync(model, folders, given with { Scope = scope }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Watches exactly <paramref name="folders"/> (the library's folders): new ones start being watched, the others
    /// stop (their pending changes are forgotten).
    /// </summary>
    public void SetFolders(IEnumerable<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var wanted = folders.Select(FolderWalker.FullPath).ToHashSet(StringComparer.Ordinal);
        var stop = new List<FolderEvents>();
        var add = new List<string>();
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            foreach (var folder in _folders.Keys.Where(f => !wanted.Contains(f)).ToList())
            {
                if (_folders[folder] is { } events)
                {
                    stop.Add(events);
                }

                _folders.Remove(folder);
                _rescanOnly.Remove(folder);
                _rescanFolders.Remove(folder);
                _pending.RemoveUnder(folder);
            }

            add.AddRange(wanted.Where(f => !_folders.ContainsKey(f)).Order(StringComparer.Ordinal));
            foreach (var folder in add)
            {
                _folders[folder] = null;
                if (!_options.UseEvents)
                {
                    _rescanOnly.Add(folder);
                }
            }
        }

        foreach (var events in stop)
        {
            events.Dispose();
        }

        if (_options.UseEvents)
        {
            foreach (var folder in add)
            {
                var events = FolderEvents.TryStart(folder, OnChanged, OnLost, OnFailed);
                var keep = false;
                lock (_lock)
                {
                    if (events is not null && !_stopped && _folders.ContainsKey(folder) && _folders[folder] is null && !_rescanOnly.Contains(folder))
                    {
                        _folders[folder] = events;
                        keep = true;
                    }
                }

                if (!keep)
                {
                    events?.Dispose();
                }
            }
        }

        Signal();
    }

    /// <summary>Starts watching (with a rescan of every folder first, unless <see cref="WatcherOptions.RescanAtStart"/> is off).</summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_started)
            {
                return;
            }

            _started = true;
            _rescanAll = _options.RescanAtStart;
            _nextRescanAt = RescanMs is { } interval ? Now + interval : null;
            _pump = Task.Run(() => PumpAsync(_stop.Token), CancellationToken.None);
        }
    }

    /// <summary>Rescans every folder as soon as no run is going.</summary>
    public void RequestRescan()
    {
        lock (_lock)
        {
            _rescanAll = true;
            _retryAt = null;
        }

        Signal();
    }

    /// <summary>Tries again now what a refused or failed run left (a host calls it when its other run ended).</summary>
    public void Resume()
    {
        lock (_lock)
        {
            if (_retryAt is null)
            {
                return;
            }

            _retryAt = null;
        }

        Signal();
    }

    /// <summary>
    /// Stops watching: no new run starts; a run in progress is cancelled (it commits what it finished, as a stopped
    /// <c>index</c> does) and waited for. Changes not indexed yet are found by the next index run or watcher's rescan.
    /// </summary>
    public async Task StopAsync()
    {
        List<FolderEvents> events;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _status = WatchStatus.Stopped;
            events = [.. _folders.Values.OfType<FolderEvents>()];
            _folders.Clear();
        }

        foreach (var e in events)
        {
            e.Dispose();
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        Raise();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    private long Now => _clock.ElapsedMilliseconds;

    private long? RescanMs => _options.RescanInterval is { } i && i > TimeSpan.Zero ? (long)i.TotalMilliseconds : null;

    private WatchState Snapshot() => new(
        _status == WatchStatus.Watching && _folders.Count == 0 ? WatchStatus.Idle : _status,
        _indexing,
        _pending.Count,
        [.. _folders.Keys.Order(StringComparer.Ordinal)],
        [.. _rescanOnly],
        RescanMs is { } ms ? ms / 1000.0 : null,
        _lastChangeAt,
        _lastChangePath,
        _lastRescanAt,
        _lastError);

    private void OnChanged(string path)
    {
        lock (_lock)
        {
            if (_stopped || !_folders.Keys.Any(f => Paths.IsAtOrBelow(path, f)))
            {
                return;
            }

            _pending.Touch(path, Now);
            _lastChangeAt = DateTimeOffset.UtcNow;
            _lastChangePath = path;
        }

        Signal();
    }

    private void OnLost(string folder)
    {
        lock (_lock)
        {
            _rescanFolders.Add(folder);
        }

        Signal();
    }

    private void OnFailed(string folder, string why)
    {
        FolderEvents? events = null;
        string message;
        lock (_lock)
        {
            if (_stopped || !_folders.TryGetValue(folder, out events))
            {
                return;
            }

            _folders[folder] = null;
            _rescanOnly.Add(folder);
            _rescanFolders.Add(folder);   // events may have been missed before the failure
            message = RescanMs is { } ms
                ? $"File-system events for {folder} are unavailable ({why}); it is kept current by a rescan every {ms / 1000.0:0.#} s instead."
                + " On Linux, raise fs.inotify.max_user_watches (and max_user_instances) if the limit was reached."
                : $"File-system events for {folder} are unavailable ({why}), and no rescan interval is set: changes there are found only by the next index run."
                + " On Linux, raise fs.inotify.max_user_watches (and max_user_instances) if the limit was reached.";
            _lastError = message;
        }

        if (events is not null)
        {
            _ = Task.Run(events.Dispose);   // not from inside its own event
        }

        Warning?.Invoke(this, message);
        Signal();
    }

    private void Signal()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the pump looks at everything when it wakes.
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(CancellationToken stop)
    {
        lock (_lock)
        {
            _status = WatchStatus.Watching;
        }

        while (!stop.IsCancellationRequested)
        {
            var (work, wait) = NextWork();
            Raise();
            if (work is null)
            {
                try
                {
                    var ms = wait is { } w ? (int)Math.Clamp(w, 1, int.MaxValue - 1) : Timeout.Infinite;
                    await _wake.WaitAsync(ms, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            await RunAsync(work, stop).ConfigureAwait(false);
        }
    }

    /// <summary>What to run now, or how long to wait (null: until signalled).</summary>
    private (Work? Work, long? Wait) NextWork()
    {
        lock (_lock)
        {
            var now = Now;
            if (_retryAt is { } retry && retry > now)
            {
                return (null, retry - now);
            }

            _retryAt = null;
            var roots = _folders.Keys.Order(StringComparer.Ordinal).ToList();
            if (roots.Count == 0)
            {
                _pending.Clear();
                _rescanAll = false;
                _rescanFolders.Clear();
                return (null, null);
            }

            var periodic = _nextRescanAt is { } due && due <= now;
            if (_rescanAll || periodic || _rescanFolders.Count > 0)
            {
                var all = _rescanAll || periodic;
                var folders = all ? roots : [.. roots.Where(_rescanFolders.Contains)];
                var unsettled = _pending.Unsettled();
                var (ready, _) = _pending.Ready();
                var work = new Work(WatchRunKind.Rescan, folders, unsettled.Count == 0 ? null : p => !IsCovered(p, unsettled),
                    [.. ready.Where(r => folders.Any(f => Paths.IsAtOrBelow(r.Path, f)))], all, [.. _rescanFolders]);
                _rescanAll = false;
                _rescanFolders.Clear();
                if (all)
                {
                    _nextRescanAt = RescanMs is { } interval ? now + interval : null;
                }

                return (work, null);
            }

            var next = _pending.Check(now);
            var (settled, oldest) = _pending.Ready();
            if (settled.Count > 0 && (!_pending.AnyUnsettled || now - oldest >= (long)_options.MaxBatchWait.TotalMilliseconds))
            {
                var paths = settled.Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
                var unsettled = _pending.Unsettled();
                var folders = roots.Where(f => paths.Any(p => Paths.IsAtOrBelow(p, f))).ToList();
                return (new Work(WatchRunKind.Changes, folders, p => IsCovered(p, paths) && !IsCovered(p, unsettled), settled, false, []), null);
            }

            long? wait = next is { } n ? n - now : null;
            if (settled.Count > 0)
            {
                wait = Min(wait, oldest!.Value + (long)_options.MaxBatchWait.TotalMilliseconds - now);
            }

            if (_nextRescanAt is { } rescanAt)
            {
                wait = Min(wait, rescanAt - now);
            }

            return (null, wait);
        }
    }

    private async Task RunAsync(Work work, CancellationToken stop)
    {
        lock (_lock)
        {
            _status = work.Kind == WatchRunKind.Rescan ? WatchStatus.Rescanning : WatchStatus.Indexing;
            _indexing = work.Taken.Count;
        }

        Raise();
        IndexResult? result = null;
        string? error = null;
        try
        {
            result = await _index(work.Folders, work.Scope, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;   // stopping: what the run finished is committed
        }
        catch (Exception e) when (e is ClipSearchException or OperationCanceledException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            error = e.Message;
        }

        lock (_lock)
        {
            if (result is null)
            {
                // Refused (the library is busy) or failed: everything stays pending, tried again after a while.
                _retryAt = Now + (long)_options.RetryDelay.TotalMilliseconds;
                _rescanAll |= work.All;
                _rescanFolders.UnionWith(work.RescanFolders);
                if (error is not null)
                {
                    _lastError = error;
                }
            }
            else
            {
                _pending.Remove(work.Taken);
                _lastError = null;
                if (work.Kind == WatchRunKind.Rescan)
                {
                    _lastRescanAt = DateTimeOffset.UtcNow;
                    if (result.Embedded + result.Reused + result.Removed + result.Failed > 0)
                    {
                        _lastChangeAt = DateTimeOffset.UtcNow;
                        _lastChangePath = work.Folders.Count > 0 ? work.Folders[0] : null;
                    }
                }
            }
        }

        // Told before the state says the run is over: whoever sees it over has heard what it did.
        if (result is not null || error is not null)
        {
            BatchIndexed?.Invoke(this, new WatchBatch(work.Kind, work.Taken.Count, work.Kind == WatchRunKind.Changes && work.Taken.Count > 0 ? work.Taken[0].Path : null, result, error));
        }

        lock (_lock)
        {
            _status = _stopped ? WatchStatus.Stopped : WatchStatus.Watching;
            _indexing = 0;
        }

        Raise();
    }

    /// <summary>Raises <see cref="StateChanged"/> when the state differs from the one last raised.</summary>
    private void Raise()
    {
        WatchState state;
        lock (_lock)
        {
            state = Snapshot();
            var key = (state.Status, state.Indexing, state.Pending, state.Folders.Count, state.RescanOnly.Count, state.LastChangeAt, state.LastRescanAt, state.LastError);
            if (Equals(_lastRaised, key))
            {
                return;
            }

            _lastRaised = key;
        }

        StateChanged?.Invoke(this, state);
    }

    /// <summary>Whether <paramref name="path"/> or a folder above it is in <paramref name="set"/>.</summary>
    private static bool IsCovered(string path, HashSet<string> set)
    {
        if (set.Count == 0)
        {
            return false;
        }

        for (var p = path; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (set.Contains(p))
            {
                return true;
            }
        }

        return false;
    }

    private static long? Min(long? a, long b) => a is { } x ? Math.Min(x, b) : b;

    private sealed record Work(WatchRunKind Kind, IReadOnlyList<string> Folders, Func<string, bool>? Scope,
        IReadOnlyList<(string Path, int Version)> Taken, bool All, IReadOnlyList<string> RescanFolders);
}
