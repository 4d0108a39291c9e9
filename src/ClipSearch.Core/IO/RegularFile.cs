using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ClipSearch.Core.IO;

/// <summary>
/// Reads files that are regular files, and nothing else, in bounded time. What a folder of photos may hold besides
/// photos cannot hang the reader: a FIFO named <c>x.jpg</c> (opening it waits for a writer), a symbolic link to
/// <c>/dev/zero</c> (reading it never ends) or to a terminal, a file on a network mount that stopped answering.
/// </summary>
/// <remarks>
/// <para>
/// Nothing but a regular file is ever opened: the path is resolved to an <c>O_PATH</c> descriptor (which names the
/// file without opening it: no device driver runs, no FIFO writer is let go), <c>fstat</c> on that descriptor — not on
/// the path, which could be swapped in between — says what it is, and anything but a regular file is refused with an
/// <see cref="IOException"/> that names its kind. A regular file is then opened for reading through
/// <c>/proc/self/fd/N</c> and checked to be the same device and inode. At most the size <c>fstat</c> reported is read
/// (a file that grows meanwhile does not make the read longer), and at most a stated byte limit.
/// </para>
/// <para>
/// The open and the reads run on a thread of their own while the caller waits for them, for cancellation, or for
/// the timeout: when no read has returned for that long, the caller gets a <see cref="FileReadTimeoutException"/>
/// and goes on. A read stuck in the kernel (a hung NFS or SMB mount) cannot be interrupted, so its thread is left
/// behind until the kernel lets it go; it then closes the file and ends. So that a dead mount cannot pile up
/// threads, once <see cref="MaxStuckReads"/> reads of files on one mount are stuck, further reads on that mount fail
/// at once until some finish — reads on other mounts go on — and once <see cref="MaxStuckReadsInAll"/> are stuck in
/// all, every read fails so.
/// </para>
/// </remarks>
public static class RegularFile
{
    /// <summary>How long a read may go without any data before it is abandoned (see <see cref="FileReadTimeoutException"/>).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest file an image is read from: 1 GB, above any image within the decoder's default pixel limit (a
    /// 100-megapixel 32-bit BMP is 400 MB).
    /// </summary>
    public const long DefaultMaxBytes = 1_000_000_000;

    /// <summary>
    /// Reads of files on one mount that may be left stuck in the kernel at once before new reads on that mount are
    /// refused without trying. The mount is told by the path's text (the longest mount point in
    /// <c>/proc/self/mountinfo</c> it lies under), as a <c>stat</c> of the path would hang on a dead mount.
    /// </summary>
    public const int MaxStuckReads = 16;

    /// <summary>Reads that may be left stuck at once on all mounts together, before every new read is refused: it bounds the threads left waiting.</summary>
    public const int MaxStuckReadsInAll = 64;

    private const int ChunkBytes = 1 << 20;
    private const int WorkerStackBytes = 256 * 1024;

    /// <summary>Tests only: runs on the reading thread once the file is open and checked, before the first read (simulates a stalled read); not for <see cref="ReadHeadAsync"/>'s reads of a header.</summary>
    internal static Action<string>? BeforeReadForTests { get; set; }

    /// <summary>Tests only: runs on the reading thread once the read is over and its caller told, before the thread takes the next read.</summary>
    internal static Action<string>? AfterReadForTests { get; set; }

    /// <summary>Reads given up (timed out or cancelled) whose thread still waits on the system.</summary>
    public static int StuckReads => Stuck.Total;

    /// <summary>The bytes of the regular file at <paramref name="path"/>.</summary>
    /// <param name="path">The file; a symbolic link is followed.</param>
    /// <param name="maxBytes">Larger files are refused before anything is read.</param>
    /// <param name="timeout">How long the read may go without data.</param>
    /// <param name="cancellationToken">Ends the wait at once (the read stops at its next chunk).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    /// <exception cref="FileReadTimeoutException">No data came for <paramref name="timeout"/>.</exception>
    /// <exception cref="IOException">It is not a regular file, is too large, or reading failed; the message says which.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Start(path, timeout, cancellationToken, ReadAll(maxBytes)).Wait(timeout);

    /// <summary>As <see cref="ReadAllBytes"/>, waiting without blocking a thread (for servers).</summary>
    /// <inheritdoc cref="ReadAllBytes" path="/param"/>
    /// <inheritdoc cref="ReadAllBytes" path="/exception"/>
    public static Task<byte[]> ReadAllBytesAsync(string path, long maxBytes, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Start(path, timeout, cancellationToken, ReadAll(maxBytes)).WaitAsync(timeout);

    private static Func<OpenFile, byte[]> ReadAll(long maxBytes) =>
        file =>
        {
            if (file.Length > maxBytes)
            {
                throw new IOException($"it is {Megabytes(file.Length)}, over the {Megabytes(maxBytes)} limit for one file");
            }

            var bytes = new byte[file.Length];
            var done = 0;
            while (done < bytes.Length)
            {
                var n = file.Read(bytes.AsSpan(done, Math.Min(ChunkBytes, bytes.Length - done)));
                if (n == 0)
                {
                    return bytes[..done];   // it shrank since fstat
                }

                done += n;
            }

            return bytes;
        };

    /// <summary>
    /// The size of the regular file at <paramref name="path"/> when it was opened and its first
    /// <paramref name="length"/> bytes (fewer when it is shorter): enough to read a header before deciding to read the rest.
    /// </summary>
    /// <param name="path">The file; a symbolic link is followed.</param>
    /// <param name="length">The most bytes read.</param>
    /// <param name="timeout">How long the read may go without data.</param>
    /// <param name="cancellationToken">Ends the wait at once.</param>
    /// <inheritdoc cref="ReadAllBytes" path="/exception"/>
    public static Task<(long Size, byte[] Head)> ReadHeadAsync(string path, int length, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return Start(path, timeout, cancellationToken, headOnly: true, file =>
        {
            var head = new byte[(int)Math.Min(length, file.Length)];
            var done = 0;
            while (done < head.Length)
            {
                var n = file.Read(head.AsSpan(done));
                if (n == 0)
                {
                    return ((long)done, head[..done]);   // it shrank since fstat
                }

                done += n;
            }

            return (file.Length, head);
        }).WaitAsync(timeout);
    }

    /// <summary>The SHA-256 of the regular file at <paramref name="path"/> (of at most the size it had when opened).</summary>
    /// <inheritdoc cref="ReadAllBytes" path="/exception"/>
    public static byte[] Sha256(string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashInto(path, hash, timeout, cancellationToken);
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// Appends the bytes of the regular file at <paramref name="path"/> (at most the size it had when opened) to
    /// <paramref name="hash"/>: one hash over several files (a model's identity). After an exception the hash holds
    /// an unknown part of the file; an abandoned read may still append to it from its thread until it stops, so
    /// dispose it rather than use it again.
    /// </summary>
    /// <inheritdoc cref="ReadAllBytes" path="/exception"/>
    public static void HashInto(string path, IncrementalHash hash, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hash);
        Start(path, timeout, cancellationToken, file =>
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                for (long left = file.Length; left > 0;)
                {
                    var n = file.Read(buffer.AsSpan(0, (int)Math.Min(ChunkBytes, left)));
                    if (n == 0)
                    {
                        break;
                    }

                    hash.AppendData(buffer, 0, n);
                    left -= n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return true;
        }).Wait(timeout);
    }

    /// <summary>A path the system calls can take: not empty, no NUL (the C string would end there and name another file).</summary>
    internal static void CheckPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new IOException(path.Length == 0 ? "the path is empty" : "the path contains a NUL character");
        }
    }

    /// <summary>The exception .NET would throw for <paramref name="errno"/>, with the system's message.</summary>
    internal static Exception ErrorFor(int errno)
    {
        var message = Marshal.GetPInvokeErrorMessage(errno);
        return errno switch
        {
            Native.ENOENT => new FileNotFoundException(message),
            Native.ENOTDIR => new DirectoryNotFoundException(message),
            Native.EACCES or Native.EPERM => new UnauthorizedAccessException(message),
            Native.ELOOP => new IOException("too many levels of symbolic links (a link that loops, or a chain longer than the system allows)"),
            _ => new IOException(message),
        };
    }

    private static string Megabytes(long bytes) => bytes >= 1_000_000_000 ? $"{bytes / 1e9:0.#} GB" : $"{bytes / 1e6:0.#} MB";

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.#} s";

    private static PendingRead<T> Start<T>(string path, TimeSpan timeout, CancellationToken cancellationToken, Func<OpenFile, T> work) =>
        Start(path, timeout, cancellationToken, headOnly: false, work);

    private static PendingRead<T> Start<T>(string path, TimeSpan timeout, CancellationToken cancellationToken, bool headOnly, Func<OpenFile, T> work)
    {
        CheckPath(path);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var mount = Mounts.MountPointOf(path);
        if (Stuck.Refusal(mount) is { } refusal)
        {
            throw new FileReadTimeoutException(refusal);
        }

        var read = new PendingRead<T>(path, mount, headOnly, work, cancellationToken);
        Readers.Run(read.Run);
        return read;
    }

    /// <summary>
    /// The threads reads run on: kept a while between reads (starting a thread costs several times the read of a
    /// photo), and never shared with the thread pool (a read stuck in the kernel must not hold a pool
    /// thread, and callers on pool threads must not wait for a work item queued behind them). A read goes to an idle
    /// thread or to a new one, never behind another read, so one that is stuck delays no other.
    /// </summary>
    private static class Readers
    {
        private static readonly TimeSpan _idleLifetime = TimeSpan.FromSeconds(20);
        private static readonly ConcurrentQueue<Action> _jobs = new();
        private static readonly SemaphoreSlim _promised = new(0);
        private static int _idle;

        public static void Run(Action job)
        {
            if (TryClaimIdle())
            {
                _jobs.Enqueue(job);
                _promised.Release();
            }
            else
            {
                new Thread(() => Loop(job), WorkerStackBytes) { IsBackground = true, Name = "ClipSearch file read" }.UnsafeStart();
            }
        }

        /// <summary>Takes one idle thread for a job (or, from an idle thread, itself to leave); false when none is idle.</summary>
        private static bool TryClaimIdle()
        {
            for (var idle = Volatile.Read(ref _idle); idle > 0; idle = Volatile.Read(ref _idle))
            {
                if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
                {
                    return true;
                }
            }

            return false;
        }

        private static void Loop(Action job)
        {
            while (true)
            {
                job();
                Interlocked.Increment(ref _idle);
                while (!_promised.Wait(_idleLifetime))
                {
                    if (TryClaimIdle())
                    {
                        return;   // idle for a while and no job promised: leave
                    }
                }

                _jobs.TryDequeue(out job!);   // every release follows an enqueue
            }
        }
    }

    /// <summary>Reads given up (timed out or cancelled) whose thread still waits on the system: in all, and per mount.</summary>
    private static class Stuck
    {
        private static readonly Lock _lock = new();
        private static readonly Dictionary<string, int> _byMount = new(StringComparer.Ordinal);
        private static int _total;

        public static int Total => Volatile.Read(ref _total);

        public static void Add(string mount)
        {
            lock (_lock)
            {
                _total++;
                _byMount[mount] = _byMount.GetValueOrDefault(mount) + 1;
            }
        }

        public static void Remove(string mount)
        {
            lock (_lock)
            {
                _total--;
                if (--_byMount[mount] == 0)
                {
                    _byMount.Remove(mount);
                }
            }
        }

        /// <summary>Why a new read of a file on <paramref name="mount"/> is not even tried, or null.</summary>
        public static string? Refusal(string mount)
        {
            lock (_lock)
            {
                if (_total >= MaxStuckReadsInAll)
                {
                    return $"not read: {_total} earlier reads are still waiting for the system (hung network mounts or disks?)";
                }

                return _byMount.TryGetValue(mount, out var onMount) && onMount >= MaxStuckReads
                    ? $"not read: {onMount} earlier reads of files on {mount} are still waiting for the system (a hung network mount or disk?)"
                    : null;
            }
        }
    }

    /// <summary>One read: run on its own thread, waited for by the caller.</summary>
    private sealed class PendingRead<T>(string path, string mount, bool headOnly, Func<OpenFile, T> work, CancellationToken cancellationToken)
    {
        private const int Running = 0, Finished = 1, Abandoned = 2;
        private static readonly TimeSpan _longestWait = TimeSpan.FromHours(1);
        // Asynchronous continuations: the caller's code after its await (an image decode, the rest of a web request)
        // must run on its own threads, not on the reader's 256 KB stack, and the reader must not wait for it.
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private ExceptionDispatchInfo? _error;
        private long _lastProgress = Stopwatch.GetTimestamp();
        private int _state;

        /// <summary>True once the caller has stopped waiting: the reading thread stops at its next chunk.</summary>
        public bool Stopped => Volatile.Read(ref _state) == Abandoned || cancellationToken.IsCancellationRequested;

        public void Touch() => Volatile.Write(ref _lastProgress, Stopwatch.GetTimestamp());

        public void Run()
        {
            try
            {
                using var file = OpenFile.Open(path, this);
                Touch();
                if (!headOnly)
                {
                    BeforeReadForTests?.Invoke(path);
                }

                _result = work(file);
            }
#pragma warning disable CA1031 // Every failure goes to the caller, who rethrows it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }

            _finished.TrySetResult();

            if (Interlocked.CompareExchange(ref _state, Finished, Running) == Abandoned)
            {
                Stuck.Remove(mount);
            }

            AfterReadForTests?.Invoke(path);
        }

        public T Wait(TimeSpan timeout)
        {
            try
            {
                while (true)
                {
                    if (_finished.Task.Wait(NextWait(timeout), cancellationToken))
                    {
                        _error?.Throw();
                        return _result!;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandon();
                throw;
            }
        }

        public async Task<T> WaitAsync(TimeSpan timeout)
        {
            try
            {
                while (true)
                {
                    try
                    {
                        await _finished.Task.WaitAsync(NextWait(timeout), cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        continue;   // no result yet: look at the progress again
                    }

                    _error?.Throw();
                    return _result!;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandon();
                throw;
            }
        }

        // How long to wait before looking at the progress again; when none came for the whole timeout, the read is given up.
        private TimeSpan NextWait(TimeSpan timeout)
        {
            var idle = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastProgress));
            if (idle >= timeout)
            {
                Abandon();
                throw new FileReadTimeoutException($"timed out after {Seconds(timeout)} without data (a hung network mount or disk?)");
            }

            var wait = timeout - idle;
            return wait < _longestWait ? wait : _longestWait;
        }

        private void Abandon()
        {
            Stuck.Add(mount);
            if (Interlocked.CompareExchange(ref _state, Abandoned, Running) != Running)
            {
                Stuck.Remove(mount);   // it had just finished (or was given up already)
            }
        }
    }

    /// <summary>An open regular file, read from the start, at most <see cref="Length"/> bytes.</summary>
    private sealed class OpenFile : IDisposable
    {
        private static bool? _procFdMounted;
        private readonly SafeFileHandle _handle;
        private readonly Action _touch;
        private readonly Func<bool> _stopped;
        private long _offset;

        private OpenFile(SafeFileHandle handle, long length, Action touch, Func<bool> stopped)
        {
            _handle = handle;
            Length = length;
            _touch = touch;
            _stopped = stopped;
        }

        /// <summary>The size fstat reported when the file was opened.</summary>
        public long Length { get; }

        /// <summary>
        /// Opens <paramref name="path"/> for reading if, and only if, it is a regular file (a link to one included).
        /// </summary>
        /// <remarks>
        /// Nothing else is ever opened: opening a device runs its driver (<c>/dev/watchdog</c> arms a reboot, a tape
        /// rewinds, a serial line raises DTR), opening a FIFO lets a writer that waits in <c>open</c> go on. So the
        /// path is first resolved to an <c>O_PATH</c> descriptor, which names the file without opening it, and that
        /// descriptor's <c>fstat</c> says what it is. Only a regular file is then opened for reading, through
        /// <c>/proc/self/fd/N</c> (the same inode, whatever the path names by now), and the new descriptor is checked
        /// again to be that file. That open blocks: for a regular file it waits only while another holds a lease on
        /// it (a Samba oplock, an NFS delegation) until the holder lets go — moments, or the kernel's
        /// <c>lease-break-time</c> (45 s) at worst — on this thread, within the read's timeout; a non-blocking open
        /// would fail with <c>EAGAIN</c> instead and the file be recorded as unreadable.
        /// </remarks>
        public static OpenFile Open<T>(string path, PendingRead<T> read)
        {
            using var located = Descriptor(Native.OpenPath(path, out var errno), errno);
            var found = StatOf(located);
            if (found.Kind != FileKind.Regular)
            {
                throw NotRegular(found.Kind);
            }

            var handle = OpenForReading(located, path);
            try
            {
                var opened = StatOf(handle);
                return opened.Kind == FileKind.Regular && opened.Device == found.Device && opened.Inode == found.Inode
                    ? new OpenFile(handle, opened.Size, read.Touch, () => read.Stopped)
                    : throw new IOException(opened.Kind == FileKind.Regular
                        ? "it was replaced by another file while it was being opened"
                        : $"it was replaced by {FileStat.Describe(opened.Kind)} while it was being opened, not a regular file");
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>The regular file <paramref name="located"/> names, open for reading.</summary>
        private static SafeFileHandle OpenForReading(SafeFileHandle located, string path)
        {
            var fd = Native.Reopen((int)located.DangerousGetHandle(), out var errno);
            if (fd < 0 && errno == Native.ENOENT && !ProcFdMounted)
            {
                // No /proc (a bare chroot): open the path again. O_NONBLOCK, as it may name something else by now
                // (the device and inode check above then refuses it); EAGAIN is a lease, waited for as above.
                fd = Native.OpenForReading(path, nonBlocking: true, out errno);
                if (fd < 0 && errno == Native.EAGAIN)
                {
                    fd = Native.OpenForReading(path, nonBlocking: false, out errno);
                }
            }

            return Descriptor(fd, errno);
        }

        private static bool ProcFdMounted => _procFdMounted ??= System.IO.Directory.Exists("/proc/self/fd");

        private static SafeFileHandle Descriptor(int fd, int errno) =>
            fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw ErrorFor(errno);

        private static FileStat StatOf(SafeFileHandle handle)
        {
            var errno = Native.Stat((int)handle.DangerousGetHandle(), out var buffer);
            return errno == 0 ? FileStat.From(buffer) : throw ErrorFor(errno);
        }

        public int Read(Span<byte> buffer)
        {
            if (_stopped())
            {
                throw new OperationCanceledException("the caller stopped waiting for this read");
            }

            var n = RandomAccess.Read(_handle, buffer, _offset);
            _offset += n;
            _touch();
            return n;
        }

        public void Dispose() => _handle.Dispose();

        private static IOException NotRegular(FileKind kind) => new($"it is {FileStat.Describe(kind)}, not a regular file");
    }
}

/// <summary>A read that made no progress for its timeout and was abandoned (see <see cref="RegularFile"/>).</summary>
public sealed class FileReadTimeoutException : IOException
{
    /// <summary>Creates the exception with a message that says how long the read waited.</summary>
    public FileReadTimeoutException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public FileReadTimeoutException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public FileReadTimeoutException() { }
}
