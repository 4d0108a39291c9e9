using System.Diagnostics;
using System.Text.Json.Serialization;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Hub;

namespace ClipSearch.Web.Services;

/// <summary>Where the server's model download stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelDownloadState>))]
public enum ModelDownloadState
{
    /// <summary>No download since the server started.</summary>
    Idle,

    /// <summary>Fetching files, or loading the finished folder.</summary>
    Running,

    /// <summary>The files are in place and the model is loaded.</summary>
    Completed,

    /// <summary>It stopped with <see cref="ModelDownloadStatus.Error"/>.</summary>
    Failed,

    /// <summary>Cancelled; partial files are kept and the next download resumes them.</summary>
    Cancelled,
}

/// <summary>What to download: a Hub repository, revision and variant (all optional).</summary>
/// <param name="Repo">owner/name (default Xenova/clip-vit-base-patch32).</param>
/// <param name="Revision">Branch, tag or commit (default main).</param>
/// <param name="Variant">fp32 (default), quantized or fp16.</param>
public sealed record ModelDownloadRequest(string? Repo = null, string? Revision = null, string? Variant = null);

/// <summary>The download's state for the UI and <c>GET /api/model/download</c>.</summary>
/// <param name="State">Idle, running, completed, failed or cancelled.</param>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">The revision.</param>
/// <param name="Variant">The variant fetched and loaded.</param>
/// <param name="Progress">The last progress report: stage, file, bytes, rate, fraction.</param>
/// <param name="Directory">The model folder.</param>
/// <param name="Error">Why it failed (the Hub client's message: offline, not found, checksum, disk space…).</param>
/// <param name="ElapsedSeconds">Time since it started.</param>
public sealed record ModelDownloadStatus(
    ModelDownloadState State, string? Repo, string? Revision, string? Variant, DownloadProgress? Progress,
    string? Directory, string? Error, double ElapsedSeconds);

/// <summary>A download was asked for while one is running (HTTP 409).</summary>
public sealed class DownloadInProgressException : ClipSearchException
{
    /// <summary>Creates the exception for the running download of <paramref name="repo"/>.</summary>
    public DownloadInProgressException(string repo)
        : base($"A download of {repo} is already running: wait for it (GET /api/model/download) or cancel it (DELETE /api/model/download).")
    {
    }

    /// <summary>Creates the exception with no repository.</summary>
    public DownloadInProgressException() : this("a model") { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public DownloadInProgressException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// The server's one model download at a time (UI and API share it): fetches a Hub repository into the model store
/// with <see cref="ModelDownloader"/> in the background, keeps the latest <see cref="DownloadProgress"/>, and loads
/// the finished folder into the <see cref="ModelHost"/>.
/// </summary>
public sealed class ModelDownloads(ModelHost host, AppFolders folders, ILogger<ModelDownloads> log) : IDisposable
{
    /// <summary>Fewest milliseconds between two <see cref="Changed"/> events for byte counts (stage changes are immediate).</summary>
    private const int ChangedIntervalMilliseconds = 200;

    private static readonly ModelDownloadStatus IdleStatus = new(ModelDownloadState.Idle, null, null, null, null, null, null, 0);

    private readonly BackgroundJob<ModelDownloadStatus> _job = new(IdleStatus);
    private long _lastChanged;
    private Stopwatch? _clock;

    /// <summary>Raised when the state changes and, at most every 200 ms, when bytes arrive.</summary>
    public event Action? Changed
    {
        add => _job.Changed += value;
        remove => _job.Changed -= value;
    }

    /// <summary>The state now.</summary>
    public ModelDownloadStatus Status
    {
        get
        {
            var status = _job.State;
            return status.State == ModelDownloadState.Running && _clock is { } clock
                ? status with { ElapsedSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1) }
                : status;
        }
    }

    /// <summary>Starts a download in the background and returns its first state.</summary>
    /// <exception cref="DownloadInProgressException">One is already running.</exception>
    /// <exception cref="ClipSearchException">The repository, revision or variant is not valid.</exception>
    public ModelDownloadStatus Start(ModelDownloadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var repo = string.IsNullOrWhiteSpace(request.Repo) ? HubRepo.Default : HubRepo.Parse(request.Repo);
        var variants = DownloadRequest.ParseVariants(string.IsNullOrWhiteSpace(request.Variant) ? "fp32" : request.Variant);
        var download = new DownloadRequest
        {
            Repo = repo,
            Revision = string.IsNullOrWhiteSpace(request.Revision) ? "main" : request.Revision.Trim(),
            Variants = variants,
            // The host loads the folder right after; loading it twice would only cost time and memory.
            VerifyLoad = false,
        };
        var started = _job.TryStart(
            () =>
            {
                _clock = Stopwatch.StartNew();
                Interlocked.Exchange(ref _lastChanged, Environment.TickCount64);
                return new ModelDownloadStatus(ModelDownloadState.Running, repo.ToString(), download.Revision, variants[0].Name(), null,
                    folders.Store.DirectoryFor(repo), null, 0);
            },
            token => RunAsync(download, token),
            s => Finished(s, ModelDownloadState.Cancelled, null),
            (s, e) => Finished(s, ModelDownloadState.Failed, Failure(e)));
        return started ? Status : throw new DownloadInProgressException(_job.State.Repo ?? repo.ToString());
    }

    /// <summary>Cancels the running download; false when none runs.</summary>
    public bool Cancel() => _job.Stop();

    /// <summary>Cancels a running download.</summary>
    public void Dispose() => _job.Dispose();

    private async Task<Func<ModelDownloadStatus, ModelDownloadStatus>> RunAsync(DownloadRequest request, CancellationToken cancellationToken)
    {
        DownloadResult result;
        using (var client = new HubClient(folders.Hub))
        {
            result = await new ModelDownloader(client, folders.Store)
                .DownloadAsync(request, new Reporter(this), cancellationToken).ConfigureAwait(false);
        }

        Update(s => s with { Directory = result.Directory, Progress = s.Progress is { } p ? p with { Stage = DownloadStage.Loading } : null }, force: true);
        await host.LoadAsync(result.Directory, request.Variants[0].Name(), null, cancellationToken).ConfigureAwait(false);
        return s => Finished(s, ModelDownloadState.Completed, null);
    }

    /// <summary>Why a download failed, for the user: the Hub client's message, the disk's, or (logged) an unexpected error.</summary>
    private string Failure(Exception e)
    {
        switch (e)
        {
            case ClipSearchException:
                return e.Message;
            case IOException or UnauthorizedAccessException:
                return $"Cannot write the model to {folders.Store.Root}: {e.Message}";
            default:
                log.LogError(e, "Model download failed");
                return $"The download stopped unexpectedly: {e.Message}";
        }
    }

    private ModelDownloadStatus Finished(ModelDownloadStatus status, ModelDownloadState state, string? error) =>
        status with { State = state, Error = error, ElapsedSeconds = Math.Round(_clock?.Elapsed.TotalSeconds ?? 0, 1) };

    private void Update(Func<ModelDownloadStatus, ModelDownloadStatus> change, bool force)
    {
        var now = Environment.TickCount64;
        var notify = force || now - Interlocked.Read(ref _lastChanged) >= ChangedIntervalMilliseconds;
        if (notify)
        {
            Interlocked.Exchange(ref _lastChanged, now);
        }

        _job.Update(change, notify);
    }

    // Progress<T> would post to a synchronisation context; the latest report is all that matters here.
    private sealed class Reporter(ModelDownloads owner) : IProgress<DownloadProgress>
    {
        private DownloadStage? _stage;
        private int _file = -1;

        public void Report(DownloadProgress value)
        {
            var force = value.Stage != _stage || value.FileIndex != _file;
            _stage = value.Stage;
            _file = value.FileIndex;
            owner.Update(s => s with { Progress = value }, force);
        }
    }
}
