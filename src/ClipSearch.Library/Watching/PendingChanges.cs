using ClipSearch.Core.IO;

namespace ClipSearch.Library.Watching;

/// <summary>
/// The changed paths a watcher has seen and not yet indexed, each debounced and settled: a path is looked at once no
/// event has come for it for <see cref="WatcherOptions.Debounce"/>; it is ready when it is gone, or when its size and
/// modification time have stayed the same for <see cref="WatcherOptions.Settle"/> and (a file) it can be opened. A
/// new event makes a ready path wait again. Not thread-safe: <see cref="LibraryWatcher"/> holds its lock around it.
/// Times are milliseconds of one monotonic clock.
/// </summary>
internal sealed class PendingChanges(WatcherOptions options)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Paths seen and not indexed.</summary>
    public int Count => _entries.Count;

    /// <summary>Records an event for <paramref name="path"/> at <paramref name="now"/>.</summary>
    public void Touch(string path, long now)
    {
        if (!_entries.TryGetValue(path, out var entry))
        {
            _entries[path] = entry = new Entry { FirstSeen = now };
        }

        entry.LastEvent = now;
        entry.Version++;
        entry.Ready = false;
        entry.CheckAt = now + Ms(options.Debounce);
    }

    /// <summary>Forgets every path (a rescan of all folders covers them).</summary>
    public void Clear() => _entries.Clear();

    /// <summary>
    /// Looks at the paths that are due (stat, and a read of one byte for a file that looks settled), marking those
    /// that have settled ready; returns when to look again (null: nothing waits to settle).
    /// </summary>
    public long? Check(long now)
    {
        long? next = null;
        foreach (var (path, entry) in _entries)
        {
            if (entry.Ready)
            {
                continue;
            }

            if (entry.CheckAt <= now)
            {
                Look(path, entry, now);
            }

            if (!entry.Ready)
            {
                next = next is { } n ? Math.Min(n, entry.CheckAt) : entry.CheckAt;
            }
        }

        return next;
    }

    /// <summary>The ready paths, with the version each was ready at, and when the oldest of them became ready.</summary>
    public (IReadOnlyList<(string Path, int Version)> Ready, long? OldestReadyAt) Ready()
    {
        var ready = _entries.Where(e => e.Value.Ready).Select(e => (e.Key, e.Value.Version)).Order().ToList();
        long? oldest = ready.Count == 0 ? null : _entries.Values.Where(e => e.Ready).Min(e => e.ReadyAt);
        return (ready, oldest);
    }

    /// <summary>Whether some path waits to settle.</summary>
    public bool AnyUnsettled => _entries.Values.Any(e => !e.Ready);

    /// <summary>The paths that have not settled (a run leaves them alone).</summary>
    public HashSet<string> Unsettled() => [.. _entries.Where(e => !e.Value.Ready).Select(e => e.Key)];

    /// <summary>Forgets the paths a run took, unless an event came for one since (it then waits for another run).</summary>
    public void Remove(IEnumerable<(string Path, int Version)> taken)
    {
        foreach (var (path, version) in taken)
        {
            if (_entries.TryGetValue(path, out var entry) && entry.Version == version)
            {
                _entries.Remove(path);
            }
        }
    }

    /// <summary>Forgets the paths under <paramref name="folder"/> (no longer watched).</summary>
    public void RemoveUnder(string folder)
    {
        foreach (var path in _entries.Keys.Where(p => Paths.IsAtOrBelow(p, folder)).ToList())
        {
            _entries.Remove(path);
        }
    }

    private void Look(string path, Entry entry, long now)
    {
        var seen = Stat(path);
        if (seen.Kind == Kind.Missing)
        {
            Settle(entry, now);   // gone: nothing to wait for
            return;
        }

        if (seen != entry.Observed)
        {
            entry.Observed = seen;
            entry.CheckAt = now + Math.Max(1, Ms(options.Settle));
            return;
        }

        if (seen.Kind == Kind.File && !CanRead(path) && now - entry.FirstSeen < Ms(options.MaxUnreadableWait))
        {
            entry.CheckAt = now + Math.Max(1, Ms(options.Settle));   // still held, or not ours to read yet
            return;
        }

        Settle(entry, now);
    }

    private static void Settle(Entry entry, long now)
    {
        entry.Ready = true;
        entry.ReadyAt = now;
    }

    private static Seen Stat(string path)
    {
        try
        {
            var file = new FileInfo(path);
            if (file.Exists)
            {
                return new Seen(Kind.File, file.Length, file.LastWriteTimeUtc.Ticks);
            }

            var folder = new DirectoryInfo(path);
            return folder.Exists ? new Seen(Kind.Folder, 0, folder.LastWriteTimeUtc.Ticks) : new Seen(Kind.Missing, 0, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Seen(Kind.Missing, 0, 0);
        }
    }

    /// <summary>Whether a byte of the file can be read as the indexer reads it (a regular file, never blocking on a FIFO).</summary>
    private static bool CanRead(string path)
    {
        try
        {
            RegularFile.ReadHeadAsync(path, 1, TimeSpan.FromSeconds(2)).GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Ms(TimeSpan time) => (long)time.TotalMilliseconds;

    private enum Kind
    {
        Missing,
        File,
        Folder,
    }

    private readonly record struct Seen(Kind Kind, long Size, long ModifiedTicks);

    private sealed class Entry
    {
        public long FirstSeen { get; init; }

        public long LastEvent { get; set; }

        public long CheckAt { get; set; }

        public int Version { get; set; }

        public Seen? Observed { get; set; }

        public bool Ready { get; set; }

        public long ReadyAt { get; set; }
    }
}

/// <summary>Path prefixes, by whole names.</summary>
internal static class Paths
{
    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies below it.</summary>
    public static bool IsAtOrBelow(string path, string folder) =>
        path.Length >= folder.Length && path.StartsWith(folder, StringComparison.Ordinal)
        && (path.Length == folder.Length || path[folder.Length] == Path.DirectorySeparatorChar || folder.EndsWith(Path.DirectorySeparatorChar));
}
