namespace ClipSearch.Library.Watching;

/// <summary>How a <see cref="LibraryWatcher"/> waits for changes to settle and how often it rescans.</summary>
public sealed record WatcherOptions
{
    /// <summary>The rescan interval used when none is given: five minutes.</summary>
    public static readonly TimeSpan DefaultRescanInterval = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Take file-system events (default). Off: the periodic rescan alone keeps the folders current, as on a file
    /// system that has no events (many network mounts).
    /// </summary>
    public bool UseEvents { get; init; } = true;

    /// <summary>How long a path must see no event before it is looked at (default 0.5 s): a burst of events is one look.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a file's size and modification time must stay the same, and the file readable, before it is indexed
    /// (default 1.5 s): a file still being copied or written is read once, when complete.
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// The longest a settled change waits for others still settling before a run takes it alone (default 5 s): a
    /// long copy does not hold back the files it has finished.
    /// </summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a file that cannot be opened is waited for before the indexer takes it anyway (and records why it
    /// cannot be read; default 1 minute).
    /// </summary>
    public TimeSpan MaxUnreadableWait { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often every folder is rescanned as a safety net (default <see cref="DefaultRescanInterval"/>; null or zero: never).</summary>
    public TimeSpan? RescanInterval { get; init; } = DefaultRescanInterval;

    /// <summary>Rescan every folder when the watcher starts (default on: changes made while nothing watched are found).</summary>
    public bool RescanAtStart { get; init; } = true;

    /// <summary>How long after a failed or refused run (the library busy, no model) the watcher tries again (default 30 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative time, or a retry delay that is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Debounce, TimeSpan.Zero, nameof(Debounce));
        ArgumentOutOfRangeException.ThrowIfLessThan(Settle, TimeSpan.Zero, nameof(Settle));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchWait, TimeSpan.Zero, nameof(MaxBatchWait));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUnreadableWait, TimeSpan.Zero, nameof(MaxUnreadableWait));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        if (RescanInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero, nameof(RescanInterval));
        }
    }
}
