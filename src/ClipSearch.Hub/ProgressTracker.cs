using System.Diagnostics;

namespace ClipSearch.Hub;

/// <summary>Turns per-file byte counts into <see cref="DownloadProgress"/> reports, at most every <see cref="Interval"/>.</summary>
internal sealed class ProgressTracker(IReadOnlyList<HubFile> files, IProgress<DownloadProgress>? progress)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly long[] _lengths = new long[files.Count];
    private readonly long _total = files.Sum(f => f.Size ?? 0);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastReport = -Interval;
    private long _received;

    /// <summary>Bytes received over the network so far (not counting what was already on disk).</summary>
    public long Received => _received;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>File <paramref name="index"/> now has <paramref name="length"/> bytes on disk.</summary>
    public void Update(int index, long length, bool fromNetwork)
    {
        if (fromNetwork && length > _lengths[index])
        {
            _received += length - _lengths[index];
        }

        _lengths[index] = length;
        var force = files[index].Size is { } size && length >= size;
        if (force || _clock.Elapsed - _lastReport >= Interval)
        {
            Report(DownloadStage.Downloading, index);
        }
    }

    public void Report(DownloadStage stage, int index = -1)
    {
        if (progress is null)
        {
            return;
        }

        _lastReport = _clock.Elapsed;
        var file = index >= 0 ? files[index] : null;
        var seconds = _clock.Elapsed.TotalSeconds;
        progress.Report(new DownloadProgress(stage, file?.Path, Math.Max(index, 0), files.Count,
            index >= 0 ? _lengths[index] : 0, file?.Size ?? 0, _lengths.Sum(), _total,
            seconds > 0 ? _received / seconds : 0));
    }
}
