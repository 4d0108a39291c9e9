using System.Globalization;
using ClipSearch.Library.Watching;

namespace ClipSearch.Cli;

/// <summary>The CLI's words for a watcher's run: one line per batch that changed something or failed.</summary>
internal static class WatchText
{
    /// <summary>The line for <paramref name="batch"/>, or null when it changed nothing (a quiet rescan).</summary>
    public static string? Line(WatchBatch batch)
    {
        var time = DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        if (batch.Error is { } error)
        {
            return $"{time} the run failed ({error}); it is tried again";
        }

        if (batch.Result is not { } r || r.Embedded + r.Reused + r.Removed + r.Failed == 0)
        {
            return null;
        }

        var what = batch.Kind == WatchRunKind.Rescan
            ? "rescan"
            : batch.Paths == 1 ? batch.FirstPath! : $"{batch.Paths} changes ({batch.FirstPath}, …)";
        return $"{time} {what}: {r.Embedded} embedded, {r.Reused} recognised (moved or copied), {r.Removed} removed, {r.Failed} failed";
    }
}
