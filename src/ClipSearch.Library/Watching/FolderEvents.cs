namespace ClipSearch.Library.Watching;

/// <summary>
/// File-system events of one watched folder and everything below it (<see cref="FileSystemWatcher"/>: inotify on
/// Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows): each created, changed, deleted or renamed path (both
/// names of a rename) goes to the change callback; lost events (the buffer overflowed) to
/// the lost callback, which rescans the folder; a watcher the system gave up on (the inotify watch limit, a
/// folder removed, a file system without events) to the failure callback, which keeps the folder current by
/// rescans alone.
/// </summary>
internal sealed class FolderEvents : IDisposable
{
    /// <summary>inotify's buffer for one watcher, the most .NET allows (64 KiB): a burst of thousands of files overflows it later.</summary>
    private const int BufferBytes = 64 * 1024;

    private readonly FileSystemWatcher _watcher;
    private readonly Action<string> _changed;
    private readonly Action<string> _lost;
    private readonly Action<string, string> _failed;
    private int _disposed;

    private FolderEvents(string folder, Action<string> changed, Action<string> lost, Action<string, string> failed)
    {
        Folder = folder;
        _changed = changed;
        _lost = lost;
        _failed = failed;
        _watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = true,
            InternalBufferSize = BufferBytes,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        _watcher.Created += OnChanged;
        _watcher.Changed += OnChanged;
        _watcher.Deleted += OnChanged;
        _watcher.Renamed += OnRenamed;
        _watcher.Error += OnError;
    }

    /// <summary>The folder watched.</summary>
    public string Folder { get; }

    /// <summary>
    /// Starts watching <paramref name="folder"/>; null and <paramref name="failed"/> called with why when the system
    /// refuses (the inotify instance or watch limit, the folder gone).
    /// </summary>
    public static FolderEvents? TryStart(string folder, Action<string> changed, Action<string> lost, Action<string, string> failed)
    {
        FolderEvents? events = null;
        try
        {
            events = new FolderEvents(folder, changed, lost, failed);
            events._watcher.EnableRaisingEvents = true;
            return events;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            events?.Dispose();
            failed(folder, Why(e));
            return null;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _watcher.EnableRaisingEvents = false;
            _watcher.Dispose();
        }
    }

    private static string Why(Exception e) => e.Message;

    private void OnChanged(object sender, FileSystemEventArgs e)
    {
        // A folder's own time changes with every entry made in it; the entries have events of their own.
        if (e.ChangeType == WatcherChangeTypes.Changed && Directory.Exists(e.FullPath))
        {
            return;
        }

        _changed(e.FullPath);
    }

    private void OnRenamed(object sender, RenamedEventArgs e)
    {
        _changed(e.OldFullPath);
        _changed(e.FullPath);
    }

    private void OnError(object sender, ErrorEventArgs e)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        if (e.GetException() is InternalBufferOverflowException)
        {
            _lost(Folder);   // events were lost: only a rescan knows what changed
            return;
        }

        _failed(Folder, Why(e.GetException()));
    }
}
