using ClipSearch.Core.Imaging;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// A bound on the bytes of uploads that requests hold in memory at once (<see cref="ClipSearchOptions.UploadBudgetMegabytes"/>),
/// all requests together. A multipart request holds <see cref="BytesHeldPerByteReceived"/> bytes of it for each byte
/// of its body, until its response is done: that covers what the form holds — text fields as UTF-16 strings (two
/// bytes a character), small files in memory, and the copy <see cref="Api.FormInput.UploadsAsync"/> makes of every file.
/// </summary>
/// <remarks>
/// <para>
/// A request with a <c>Content-Length</c> reserves all it will need before its body is read (<see cref="MeterAsync"/>),
/// in arrival order, so that concurrent uploads are received one after another rather than each half-way and all
/// waiting for one another. A client may announce a large body and send it slowly, or not at all, to hold that
/// reservation: so a request whose body arrives slower than <see cref="MinBytesPerSecond"/> in any second (after
/// <see cref="GraceSeconds"/>) keeps only what it has sent; the rest of its body then takes its bytes as they come,
/// ahead of the queue while they are free (work under way finishes first). A body without a length always does.
/// </para>
/// <para>
/// Waiting for room is bounded by <see cref="ClipSearchOptions.UploadWaitSeconds"/>: past it the request is refused
/// with 503 and <c>Retry-After</c> (<see cref="ServerBusyException"/>). A request that alone would need more than the
/// whole budget is refused at once with 413. The Blazor UI's file picker takes its files' sizes from the same budget
/// (<see cref="HoldAsync"/>).
/// </para>
/// </remarks>
public sealed class UploadBudget
{
    /// <summary>Budget bytes a byte of a multipart body holds: text fields become UTF-16 strings, files are copied once.</summary>
    public const int BytesHeldPerByteReceived = 2;

    /// <summary>The slowest body that keeps its reservation: 256 KB a second.</summary>
    public const long MinBytesPerSecond = 256 * 1024;

    /// <summary>Seconds before a body is first held to <see cref="MinBytesPerSecond"/> (a connection's slow start).</summary>
    public const int GraceSeconds = 2;

    /// <summary>Bytes taken at a time as a body without a reservation arrives (fewer waits and locks than one per read).</summary>
    private const long ChunkBytes = 256 * 1024;

    private readonly TimeSpan _longestWait;
    private readonly long _maxRequestBytes;

    /// <summary>The budget of <paramref name="options"/>.</summary>
    /// <exception cref="Core.ClipSearchException">Smaller than one image upload at its limit, or a wait out of range.</exception>
    public UploadBudget(IOptions<ClipSearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Bytes = new DecodeBudget(options.Value.CheckedUploadBudgetBytes());
        _longestWait = options.Value.CheckedUploadWait();
        _maxRequestBytes = options.Value.MaxRequestBytes;
    }

    /// <summary>The bytes (a <see cref="DecodeBudget"/> used for upload bytes: same rules, another pool).</summary>
    public DecodeBudget Bytes { get; }

    /// <summary>
    /// From now on, every byte read from <paramref name="context"/>'s request body holds
    /// <see cref="BytesHeldPerByteReceived"/> bytes of the budget, given back when the response is done; with a
    /// <c>Content-Length</c>, all of them are reserved first.
    /// </summary>
    /// <exception cref="ServerBusyException">No room came within the longest wait.</exception>
    /// <exception cref="RequestTooLargeException">More than the whole budget (413).</exception>
    public async Task MeterAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var held = new Held(this);
        context.Response.RegisterForDispose(held);
        // A body over the request limit is refused by the server in its own words when it is read.
        if (context.Request.ContentLength is > 0 and var length && length <= _maxRequestBytes)
        {
            await held.ReserveAsync(length * BytesHeldPerByteReceived, cancellationToken).ConfigureAwait(false);
        }

        context.Request.Body = new MeteredStream(context.Request.Body, held);
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> (files about to be read into memory) from the budget, waiting at most the
    /// longest wait; dispose the result to give them back.
    /// </summary>
    /// <exception cref="ServerBusyException">The budget stayed full.</exception>
    /// <exception cref="RequestTooLargeException">More than the whole budget (413).</exception>
    public async Task<IDisposable> HoldAsync(long bytes, CancellationToken cancellationToken)
    {
        var held = new Held(this);
        try
        {
            await held.TakeAsync(bytes, cancellationToken).ConfigureAwait(false);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private async Task<DecodeBudget.Lease> AcquireAsync(long bytes, long total, CancellationToken cancellationToken)
    {
        if (total > Bytes.Capacity)
        {
            throw new RequestTooLargeException(
                $"The upload is larger than the server's upload budget allows for one request ({Sizes.Megabytes(Bytes.Capacity / BytesHeldPerByteReceived)} of body; ClipSearch:UploadBudgetMegabytes).");
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_longestWait);
        try
        {
            return await Bytes.AcquireAsync(bytes, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerBusyException(
                $"The server is busy receiving other uploads (its upload budget of {Sizes.Megabytes(Bytes.Capacity)} stayed full for {_longestWait.TotalSeconds:0} s); try again shortly.",
                _longestWait);
        }
    }

    /// <summary>
    /// What one request holds: its reservation (cut to what it used when its body is slow) and the leases taken as
    /// its body arrived beyond it. Reads of one body come one after another; the lock is for the watchdog and the end.
    /// </summary>
    private sealed class Held(UploadBudget owner) : IDisposable
    {
        private readonly Lock _lock = new();
        private readonly List<DecodeBudget.Lease> _leases = [];
        private DecodeBudget.Lease? _reservation;
        private Timer? _watchdog;
        private long _started;
        private long _leased;
        private long _used;
        private long _usedAtLastCheck;
        private bool _disposed;

        public async Task ReserveAsync(long bytes, CancellationToken cancellationToken)
        {
            var lease = await owner.AcquireAsync(bytes, bytes, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                if (_disposed)
                {
                    lease.Dispose();
                    return;
                }

                _reservation = lease;
                _leases.Add(lease);
                _leased += lease.Bytes;
                _started = Environment.TickCount64;
                _watchdog = new Timer(static state => ((Held)state!).CheckPace(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }

        /// <summary>Takes <paramref name="bytes"/> more (from what is already held, else a new lease of at least a chunk).</summary>
        public async ValueTask TakeAsync(long bytes, CancellationToken cancellationToken)
        {
            long need, used;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _used += bytes;
                used = _used;
                need = _used - _leased;
            }

            if (need <= 0)
            {
                return;
            }

            var amount = Math.Min(Math.Max(need, ChunkBytes), Math.Max(need, owner.Bytes.Capacity - (used - need)));
            // A body under way takes what is free ahead of the queue (it cannot wait behind requests that wait for
            // it to finish); only when nothing is free does it queue, and then for a bounded time.
            var lease = (used <= owner.Bytes.Capacity ? owner.Bytes.TryAcquire(amount) : null)
                ?? await owner.AcquireAsync(amount, used, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                if (!_disposed)
                {
                    _leases.Add(lease);
                    _leased += lease.Bytes;
                    return;
                }
            }

            lease.Dispose();   // the response ended meanwhile
        }

        // Every second while a reservation is held, on the last second alone (not an average, which a burst at
        // the start would keep up for minutes): a body slower than the minimum keeps only what it has sent. A body
        // received in full needs no more watching.
        private void CheckPace()
        {
            lock (_lock)
            {
                if (_reservation is not { } reservation || _disposed)
                {
                    return;
                }

                var sentSinceLast = (_used - _usedAtLastCheck) / BytesHeldPerByteReceived;
                _usedAtLastCheck = _used;
                var received = _used >= _leased;
                var starting = Environment.TickCount64 - _started < GraceSeconds * 1000L;
                if (!received && (starting || sentSinceLast >= MinBytesPerSecond))
                {
                    return;   // keeping pace, or still starting
                }

                if (!received)
                {
                    var before = reservation.Bytes;
                    reservation.ShrinkTo(Math.Max(0, reservation.Bytes - (_leased - _used)));
                    _leased -= before - reservation.Bytes;
                }

                _reservation = null;
                _watchdog?.Dispose();
                _watchdog = null;
            }
        }

        public void Dispose()
        {
            DecodeBudget.Lease[] leases;
            lock (_lock)
            {
                _disposed = true;
                _watchdog?.Dispose();
                _watchdog = null;
                leases = [.. _leases];
                _leases.Clear();
            }

            foreach (var lease in leases)
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>A request body whose reads take from the budget what they return, before returning it.</summary>
    private sealed class MeteredStream(Stream inner, Held held) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0)
            {
                await held.TakeAsync((long)n * BytesHeldPerByteReceived, cancellationToken).ConfigureAwait(false);
            }

            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Kestrel refuses synchronous reads of a body (AllowSynchronousIO is off); so does this.
        public override int Read(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("Synchronous reads of a request body are not allowed.");

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
