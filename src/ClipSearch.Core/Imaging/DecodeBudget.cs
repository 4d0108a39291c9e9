namespace ClipSearch.Core.Imaging;

/// <summary>
/// A bound on the bytes of decoded pixels held at once, shared by everything in the process that decodes: each
/// decode first takes a <see cref="Lease"/> for the most bytes it will hold (computed from the image's header, see
/// <see cref="ImageLoader.PeakBytes"/>), decodes, and gives it back. So however many requests or decoder threads
/// there are, decoded images never take more than <see cref="Capacity"/> together, plus at most one image that is
/// larger than the whole budget (it waits until the budget is entirely free and takes all of it, so it still runs).
/// </summary>
/// <remarks>
/// Waiters are served strictly in arrival order: a request that does not fit waits, and so does every request after
/// it, even one that would fit. That costs a little throughput and means a large image is never starved by a stream
/// of small ones. Waiting is asynchronous (<see cref="AcquireAsync"/>: no thread is blocked; the web uses it) or
/// synchronous (<see cref="Acquire"/>, for callers on threads of their own); both can be cancelled.
/// </remarks>
public sealed class DecodeBudget
{
    /// <summary>Bytes in a mebibyte, the unit of the front ends' budget settings.</summary>
    public const long BytesPerMegabyte = 1024 * 1024;

    /// <summary>
    /// The default capacity: 1 GiB. It admits one image at the 100-megapixel limit together with its EXIF-rotated
    /// copy (2 × 400 MB RGBA), or two such images that need no rotation, at once.
    /// </summary>
    public const long DefaultCapacityBytes = 1024 * BytesPerMegabyte;

    /// <summary>Bytes per pixel of the largest decoded layout (RGBA).</summary>
    private const int BytesPerPixel = 4;

    /// <summary>Buffers of a full-size image held at once at most on the default path: the decoded one and its rotated copy.</summary>
    private const int FullSizeBuffersAtOnce = 2;

    private readonly object _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _inUse;
    private long _peak;
    private long _grants;

    /// <summary>A budget of <paramref name="capacityBytes"/>.</summary>
    public DecodeBudget(long capacityBytes = DefaultCapacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        Capacity = capacityBytes;
    }

    /// <summary>
    /// The process's budget (<see cref="DefaultCapacityBytes"/>): what <see cref="ImageLoader"/> uses when
    /// <see cref="ImageLoadOptions.Budget"/> is null. A front end with a budget setting passes its own instance
    /// instead (the server to every route and its indexer, the CLI's index command to its pipeline).
    /// </summary>
    public static DecodeBudget Shared { get; } = new();

    /// <summary>Most bytes held at once (a single larger request still gets it all).</summary>
    public long Capacity { get; }

    /// <summary>Bytes held now.</summary>
    public long InUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    /// <summary>The most bytes held at once since the budget was made (or <see cref="ResetPeak"/>).</summary>
    public long Peak
    {
        get
        {
            lock (_lock)
            {
                return _peak;
            }
        }
    }

    /// <summary>Leases granted since the budget was made (tests: how many times a decode took from it).</summary>
    public long Grants
    {
        get
        {
            lock (_lock)
            {
                return _grants;
            }
        }
    }

    /// <summary>Tests only: runs after a request that must wait is queued, before its cancellation is registered.</summary>
    internal static Action<DecodeBudget>? AfterQueuedForTests { get; set; }

    /// <summary>Requests waiting now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// The least capacity that admits one image of <paramref name="maxPixels"/> with its EXIF-rotated copy, the most
    /// the default preprocessing holds at once for one image; the front ends refuse a budget setting below it.
    /// </summary>
    public static long MinimumFor(long maxPixels) => maxPixels * BytesPerPixel * FullSizeBuffersAtOnce;

    /// <summary>Forgets the peak (tests, measurements).</summary>
    public void ResetPeak()
    {
        lock (_lock)
        {
            _peak = _inUse;
        }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> (all of the budget when that is more than <see cref="Capacity"/>), waiting
    /// without blocking a thread until they are free and every earlier request has been served.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public ValueTask<Lease> AcquireAsync(long bytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        cancellationToken.ThrowIfCancellationRequested();
        var amount = Math.Min(bytes, Capacity);
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && _inUse + amount <= Capacity)
            {
                return ValueTask.FromResult(Take(amount));
            }

            waiter = new Waiter(amount);
            waiter.Node = _waiters.AddLast(waiter);
        }

        AfterQueuedForTests?.Invoke(this);
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(static state =>
            {
                var (budget, w, token) = ((DecodeBudget, Waiter, CancellationToken))state!;
                budget.Cancel(w, token);
            }, (this, waiter, cancellationToken));
            lock (_lock)
            {
                if (waiter.Node is not null)
                {
                    // Still waiting: whoever grants or cancels it disposes the registration.
                    waiter.Cancellation = registration;
                    registration = default;
                }
            }

            // Granted (a release on another thread got to it first) or cancelled meanwhile: nothing left to cancel,
            // and the registration must not keep the waiter alive until the token's source is disposed.
            registration.Dispose();
        }

        return new ValueTask<Lease>(waiter.Completion.Task);
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> at once if they are free now, ahead of any waiter (null when they are not):
    /// for work already under way that needs a little more to finish, which would otherwise wait behind requests
    /// that cannot start until it finishes.
    /// </summary>
    public Lease? TryAcquire(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            return _inUse + bytes <= Capacity ? Take(bytes) : null;
        }
    }

    /// <summary>As <see cref="AcquireAsync"/>, blocking the calling thread while it waits (for threads of their own).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public Lease Acquire(long bytes, CancellationToken cancellationToken = default)
    {
        var pending = AcquireAsync(bytes, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    private Lease Take(long amount)
    {
        _grants++;
        _inUse += amount;
        _peak = Math.Max(_peak, _inUse);
        return new Lease(this, amount);
    }

    private void Release(long amount)
    {
        List<(Waiter, Lease)> granted;
        lock (_lock)
        {
            _inUse -= amount;
            granted = GrantWaiting();
        }

        Complete(granted);
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        List<(Waiter, Lease)> granted;
        lock (_lock)
        {
            if (waiter.Node?.List is null)
            {
                return;   // already granted: the caller gets its lease and gives it back
            }

            _waiters.Remove(waiter.Node);
            waiter.Node = null;
            // The head leaving may let the ones behind it in.
            granted = GrantWaiting();
        }

        waiter.Completion.TrySetCanceled(token);
        Complete(granted);
    }

    // Under the lock: serves waiters in order while the first one fits.
    private List<(Waiter, Lease)> GrantWaiting()
    {
        var granted = new List<(Waiter, Lease)>();
        while (_waiters.First is { } first && _inUse + first.Value.Amount <= Capacity)
        {
            _waiters.RemoveFirst();
            first.Value.Node = null;
            granted.Add((first.Value, Take(first.Value.Amount)));
        }

        return granted;
    }

    // Outside the lock: continuations run asynchronously anyway, and the registrations are disposed here.
    private static void Complete(List<(Waiter Waiter, Lease Lease)> granted)
    {
        foreach (var (waiter, lease) in granted)
        {
            waiter.Cancellation.Dispose();
            waiter.Completion.TrySetResult(lease);
        }
    }

    /// <summary>Bytes taken from a <see cref="DecodeBudget"/>; dispose it to give them back (once).</summary>
    public sealed class Lease : IDisposable
    {
        private DecodeBudget? _budget;

        internal Lease(DecodeBudget budget, long bytes)
        {
            _budget = budget;
            _bytes = bytes;
        }

        private long _bytes;

        /// <summary>Bytes held (at most the budget's capacity).</summary>
        public long Bytes => Volatile.Read(ref _bytes);

        /// <summary>
        /// Gives back all but <paramref name="bytes"/> of what is held now (nothing when it holds no more), letting
        /// waiters in: a reservation made ahead of need, cut to what is used.
        /// </summary>
        public void ShrinkTo(long bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytes);
            var budget = Volatile.Read(ref _budget);
            if (budget is null)
            {
                return;
            }

            long freed;
            lock (budget._lock)
            {
                freed = Math.Max(0, _bytes - bytes);
                _bytes -= freed;
            }

            if (freed > 0)
            {
                budget.Release(freed);
            }
        }

        /// <summary>Gives the bytes back.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _budget, null) is { } budget)
            {
                long bytes;
                lock (budget._lock)
                {
                    bytes = _bytes;
                    _bytes = 0;
                }

                budget.Release(bytes);
            }
        }
    }

    private sealed class Waiter(long amount)
    {
        public long Amount { get; } = amount;

        public TaskCompletionSource<Lease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }
    }
}
