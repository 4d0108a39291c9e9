using ClipSearch.Hub;
using Spectre.Console;

namespace ClipSearch.Cli;

/// <summary>
/// Shows a model download on stderr: a Spectre.Console progress bar per file on a terminal, otherwise a plain line
/// when a file starts and every few seconds while it arrives.
/// </summary>
internal static class DownloadReporter
{
    /// <summary>Runs <paramref name="download"/> with a progress display fitting where stderr goes.</summary>
    public static Task<T> RunAsync<T>(Func<IProgress<DownloadProgress>, Task<T>> download) =>
        CliProgress.RunAsync(
            [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn()],
            context => download(context is null ? new PlainLines() : new Bars(context)));

    private sealed class Bars(ProgressContext context) : IProgress<DownloadProgress>
    {
        private const string Checking = " (checking)";
        private readonly Dictionary<int, ProgressTask> _tasks = [];
        private readonly Lock _lock = new();

        public void Report(DownloadProgress value)
        {
            lock (_lock)
            {
                if (value.Stage == DownloadStage.Done)
                {
                    foreach (var done in _tasks.Values)
                    {
                        done.Description = done.Description.Replace(Checking, "", StringComparison.Ordinal);
                    }
                }

                if (value.File is null)
                {
                    return;
                }

                if (!_tasks.TryGetValue(value.FileIndex, out var task))
                {
                    task = context.AddTask(Markup.Escape(value.File), maxValue: Math.Max(value.FileBytesTotal, 1));
                    _tasks[value.FileIndex] = task;
                }

                task.Value = value.Stage == DownloadStage.Verifying ? task.MaxValue : value.FileBytesDone;
                task.Description = Markup.Escape(value.File) + (value.Stage == DownloadStage.Verifying ? Checking : "");
                if (_tasks.TryGetValue(value.FileIndex - 1, out var previous))
                {
                    previous.Description = previous.Description.Replace(Checking, "", StringComparison.Ordinal);
                }
            }
        }
    }

    private sealed class PlainLines : IProgress<DownloadProgress>
    {
        private readonly CliProgress.Throttle _throttle = new();
        private int _file = -1;

        public void Report(DownloadProgress value)
        {
            if (value.Stage == DownloadStage.Resolving)
            {
                CliProgress.Line("asking the Hub for the file list…");
            }
            else if (value.Stage == DownloadStage.Loading)
            {
                CliProgress.Line("loading the model to check it…");
            }
            else if (value.Stage == DownloadStage.Downloading && value.FileIndex != _file)
            {
                _file = value.FileIndex;
                _throttle.Due(force: true);
                CliProgress.Line($"[{value.FileIndex + 1}/{value.FileCount}] {value.File} ({Bytes.Format(value.FileBytesTotal)})");
            }
            else if (value.Stage == DownloadStage.Downloading && _throttle.Due())
            {
                CliProgress.Line($"  {Bytes.Format(value.FileBytesDone)} of {Bytes.Format(value.FileBytesTotal)}; all files {value.Fraction:P0}, {Bytes.Format((long)value.BytesPerSecond)}/s");
            }
        }
    }
}

/// <summary>Byte counts for people.</summary>
internal static class Bytes
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
