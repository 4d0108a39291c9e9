using ClipSearch.Library.Indexing;

namespace ClipSearch.Library.Watching;

/// <summary>What a <see cref="LibraryWatcher"/> is doing.</summary>
public enum WatchStatus
{
    /// <summary>No folder to watch (or not started yet).</summary>
    Idle,

    /// <summary>Watching the folders, nothing to index now.</summary>
    Watching,

    /// <summary>Rescanning every folder (at start, on the interval, after lost events).</summary>
    Rescanning,

    /// <summary>Indexing the changes seen (<see cref="WatchState.Indexing"/> paths).</summary>
    Indexing,

    /// <summary>Stopped: nothing is watched any more.</summary>
    Stopped,
}

/// <summary>A snapshot of a watcher, for a front end (data: each front end words it).</summary>
/// <param name="Status">What it is doing.</param>
/// <param name="Indexing">Paths the run in progress indexes (0 unless <see cref="WatchStatus.Indexing"/>).</param>
/// <param name="Pending">Changed paths seen and not indexed yet (waiting to settle, or for the run in progress).</param>
/// <param name="Folders">The folders watched.</param>
/// <param name="RescanOnly">
/// The folders kept current by the rescan alone: events are off, or the system refused them (the inotify watch limit,
/// a file system without events); <see cref="LastError"/> says why.
/// </param>
/// <param name="RescanIntervalSeconds">Seconds between rescans (null: no periodic rescan).</param>
/// <param name="LastChangeAt">When the last change was seen (an event, or a run that found one).</param>
/// <param name="LastChangePath">The path of that change.</param>
/// <param name="LastRescanAt">When the last rescan ended.</param>
/// <param name="LastError">The last problem (a run that failed, events refused), or null.</param>
public sealed record WatchState(
    WatchStatus Status,
    int Indexing,
    int Pending,
    IReadOnlyList<string> Folders,
    IReadOnlyList<string> RescanOnly,
    double? RescanIntervalSeconds,
    DateTimeOffset? LastChangeAt,
    string? LastChangePath,
    DateTimeOffset? LastRescanAt,
    string? LastError);

/// <summary>What started a watcher's run.</summary>
public enum WatchRunKind
{
    /// <summary>Changes seen through events, settled.</summary>
    Changes,

    /// <summary>A rescan of every folder.</summary>
    Rescan,
}

/// <summary>One run of a watcher, as it ended.</summary>
/// <param name="Kind">Why it ran.</param>
/// <param name="Paths">The changed paths it took (0 for a rescan).</param>
/// <param name="FirstPath">The first of them, in path order (null for a rescan).</param>
/// <param name="Result">What the indexer did, or null when the run failed or was refused.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record WatchBatch(WatchRunKind Kind, int Paths, string? FirstPath, IndexResult? Result, string? Error);

/// <summary>
/// Runs the incremental index for a watcher: <paramref name="folders"/> (the library's folders that changed),
/// changing only the paths <paramref name="scope"/> accepts (null: all). Returns what it did, or null when the
/// library is busy with another run (the watcher then tries again, see <see cref="LibraryWatcher.Resume"/>).
/// </summary>
public delegate Task<IndexResult?> WatchIndexRun(IReadOnlyList<string> folders, Func<string, bool>? scope, CancellationToken cancellationToken);
