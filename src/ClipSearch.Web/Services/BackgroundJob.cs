namespace ClipSearch.Web.Services;

/// <summary>
/// One long job of the server at a time (an indexing run, a model download), in the background: started only when
/// none is running (the caller answers 409 otherwise), stoppable, with a state snapshot and an event when it
/// changes. The job's own failures never escape: a cancellation and any exception end in a state the user sees.
/// </summary>
/// <typeparam name="TState">The state the UI and the API show (an immutable record).</typeparam>
/// <param name="initial">The state before the first run.</param>
public sealed class BackgroundJob<TState>(TState initial) : IDisposable
    where TState : class
{
    private readonly Lock _lock = new();
    private TState _state = initial;
    private CancellationTokenSource? _stop;
    private Task _run = Task.CompletedTask;
    private bool _running;

    /// <summary>Raised when the state changes (when <see cref="Update"/> is asked to tell).</summary>
    public event Action? Changed;

    /// <summary>The state now.</summary>
    public TState State => Volatile.Read(ref _state);

    /// <summary>Whether a run is going.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="work"/> on the thread pool unless a run is going (false then, and nothing changes).
    /// <paramref name="begin"/> gives the run's first state, under the job's lock; when it throws, nothing starts.
    /// The run ends in the state <paramref name="work"/> returns a change to, a cancellation of the run's token in
    /// <paramref name="cancelled"/>, any other exception in <paramref name="failed"/>: applied as the job stops
    /// running (a start right after sees it ended), then <see cref="Changed"/> is raised.
    /// </summary>
    public bool TryStart(Func<TState> begin, Func<CancellationToken, Task<Func<TState, TState>>> work, Func<TState, TState> cancelled, Func<TState, Exception, TState> failed)
    {
        ArgumentNullException.ThrowIfNull(begin);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(cancelled);
        ArgumentNullException.ThrowIfNull(failed);
        lock (_lock)
        {
            if (_running)
            {
                return false;
            }

            var first = begin();
            var stop = new CancellationTokenSource();
            _stop?.Dispose();   // the last run's, ended
            _stop = stop;
            _running = true;
            Volatile.Write(ref _state, first);
            _run = Task.Run(() => RunAsync(work, cancelled, failed, stop.Token), CancellationToken.None);
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>Changes the state (atomically); raises <see cref="Changed"/> when <paramref name="notify"/>.</summary>
    public void Update(Func<TState, TState> change, bool notify = true)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock)
        {
            Volatile.Write(ref _state, change(_state));
        }

        if (notify)
        {
            Changed?.Invoke();
        }
    }

    /// <summary>Asks the running job to stop (its token is cancelled); false when none runs.</summary>
    public bool Stop()
    {
        lock (_lock)
        {
            if (!_running)
            {
                return false;
            }

            _stop?.Cancel();
            return true;
        }
    }

    /// <summary>Waits for the running job, if any, to end (it never throws).</summary>
    public Task WaitAsync() => _run;

    /// <summary>Cancels a running job.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stop?.Cancel();
        }
    }

    private async Task RunAsync(Func<CancellationToken, Task<Func<TState, TState>>> work, Func<TState, TState> cancelled, Func<TState, Exception, TState> failed, CancellationToken token)
    {
        Func<TState, TState> end;
        try
        {
            end = await work(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            end = cancelled;
        }
#pragma warning disable CA1031 // A background job must end in a state the user sees, whatever went wrong.
        catch (Exception e)
#pragma warning restore CA1031
        {
            end = s => failed(s, e);
        }

        lock (_lock)
        {
            Volatile.Write(ref _state, end(_state));
            _running = false;
        }

        Changed?.Invoke();
    }
}
