using System.Diagnostics;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Web.Security;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>What the model host is doing.</summary>
public enum ModelState
{
    /// <summary>No model.</summary>
    Empty,

    /// <summary>A load is running.</summary>
    Loading,

    /// <summary>A model is ready.</summary>
    Loaded,
}

/// <summary>The model host's state for the UI and <c>GET /api/model</c>.</summary>
/// <param name="State">Empty, loading or loaded.</param>
/// <param name="Loading">The folder being loaded, while a load runs.</param>
/// <param name="Info">The loaded model's description.</param>
/// <param name="LastError">Why the last load failed, if it did.</param>
/// <param name="LastLoadMilliseconds">How long the last load (successful or not) took.</param>
/// <param name="WorkingSetBytes">The process's resident memory.</param>
/// <param name="ManagedHeapBytes">The .NET heap.</param>
/// <param name="PresetWarming">What the idle warming of the zero-shot presets is doing (<see cref="PresetWarmer"/>).</param>
public sealed record ModelStatus(
    ModelState State,
    string? Loading,
    ModelInfo? Info,
    string? LastError,
    double? LastLoadMilliseconds,
    long WorkingSetBytes,
    long ManagedHeapBytes,
    PresetWarmStatus? PresetWarming = null);

/// <summary>
/// Holds the current model: loads (one at a time, off the request thread), unloads, and lends the model to
/// requests through <see cref="Acquire"/> leases so that a swap waits for nobody and breaks nobody.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private readonly int _defaultThreads;
    private readonly ServerPaths? _paths;
    private readonly long _zeroShotCacheBytes;
    private LoadedModel? _current;
    private long _generation;
    private string? _loading;
    private string? _lastError;
    private double? _lastLoadMilliseconds;
    private int _requests;
    private long _lastRequestEnded = Environment.TickCount64;

    /// <summary>Creates an empty host that loads any folder it is given.</summary>
    public ModelHost(IOptions<ClipSearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _defaultThreads = options.Value.EffectiveThreads;
        _zeroShotCacheBytes = options.Value.CheckedZeroShotCacheBytes();
    }

    /// <summary>Creates an empty host that loads only folders <paramref name="paths"/> allows.</summary>
    public ModelHost(IOptions<ClipSearchOptions> options, ServerPaths paths)
        : this(options) => _paths = paths;

    /// <summary>Raised after every change of state (load started, finished, failed; unloaded).</summary>
    public event Action? Changed;

    /// <summary>
    /// Raised (on the requesting thread) each time a request takes the model through <see cref="Acquire"/>: background
    /// work that must never delay a request (<see cref="PresetWarmer"/>) stops at its next step.
    /// </summary>
    public event Action? RequestStarted;

    /// <summary>Requests holding the model now (leases from <see cref="Acquire"/>; background work is not counted).</summary>
    public int RequestsInFlight => Volatile.Read(ref _requests);

    /// <summary>How long no request has held the model (zero while one does).</summary>
    public TimeSpan IdleFor => RequestsInFlight > 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastRequestEnded));

    /// <summary>Whether a model is loaded.</summary>
    public bool IsLoaded => Volatile.Read(ref _current) is not null;

    /// <summary>The loaded model's description, or null (cheaper than <see cref="Status"/>, which reads the process's memory).</summary>
    public ModelInfo? Info => Volatile.Read(ref _current)?.Info;

    /// <summary>The state now.</summary>
    public ModelStatus Status
    {
        get
        {
            using var process = Process.GetCurrentProcess();
            return new ModelStatus(
                _loading is not null ? ModelState.Loading : IsLoaded ? ModelState.Loaded : ModelState.Empty,
                _loading,
                Volatile.Read(ref _current)?.Info,
                _lastError,
                _lastLoadMilliseconds,
                process.WorkingSet64,
                GC.GetTotalMemory(false));
        }
    }

    /// <summary>Lends the current model to a request; dispose the lease when done.</summary>
    /// <exception cref="ModelNotLoadedException">No model is loaded.</exception>
    public ModelLease Acquire()
    {
        var lease = Lend(countAsRequest: true);
        RequestStarted?.Invoke();
        return lease;
    }

    /// <summary>
    /// Lends the current model to background work, which is not counted in <see cref="RequestsInFlight"/>; dispose
    /// the lease when done.
    /// </summary>
    /// <exception cref="ModelNotLoadedException">No model is loaded.</exception>
    public ModelLease AcquireForBackground() => Lend(countAsRequest: false);

    private ModelLease Lend(bool countAsRequest)
    {
        while (true)
        {
            var current = Volatile.Read(ref _current) ?? throw new ModelNotLoadedException();
            if (current.TryAddReference())
            {
                if (!countAsRequest)
                {
                    return new ModelLease(current, null);
                }

                Interlocked.Increment(ref _requests);
                return new ModelLease(current, this);
            }
        }
    }

    /// <summary>A counted lease's end.</summary>
    internal void RequestEnded()
    {
        Interlocked.Exchange(ref _lastRequestEnded, Environment.TickCount64);
        Interlocked.Decrement(ref _requests);
    }

    /// <summary>
    /// Loads the model in <paramref name="directory"/> and makes it current (the previous one is released once its
    /// requests finish). A failed load leaves the current model in place.
    /// </summary>
    /// <exception cref="ClipSearchException">The folder or a setting is wrong (the message says which).</exception>
    /// <exception cref="PathNotAllowedException">The server may not read that folder (see <see cref="ServerPaths"/>).</exception>
    public async Task<ModelStatus> LoadAsync(string directory, string? variant, int? threads, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ClipSearchException("Give the model folder's path (the folder with config.json and onnx/).");
        }

        directory = _paths?.ModelFolder(directory) ?? directory.Trim();

        var options = new ModelOptions
        {
            Variant = ModelVariants.Parse(string.IsNullOrWhiteSpace(variant) ? "fp32" : variant),
            Threads = threads is > 0 ? threads.Value : _defaultThreads,
        };
        options.Validate();   // the bounds every front end applies (ClipSearch.Core.Limits), before the load starts

        await _loadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        try
        {
            _loading = directory;
            _lastError = null;
            Changed?.Invoke();
            var model = await Task.Run(() => ClipModel.Load(directory, options), CancellationToken.None).ConfigureAwait(false);
            var previous = Interlocked.Exchange(ref _current, new LoadedModel(model, Interlocked.Increment(ref _generation), _zeroShotCacheBytes));
            previous?.Retire();
            return Status;
        }
        catch (ClipSearchException e)
        {
            _lastError = e.Message;
            throw;
        }
        finally
        {
            _lastLoadMilliseconds = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            _loading = null;
            _loadLock.Release();
            Changed?.Invoke();
        }
    }

    /// <summary>Unloads the model (its sessions close when the last running request finishes).</summary>
    public ModelStatus Unload()
    {
        Interlocked.Exchange(ref _current, null)?.Retire();
        _lastError = null;
        Changed?.Invoke();
        return Status;
    }

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _current, null)?.Retire();
        _loadLock.Dispose();
    }
}
