using System.CommandLine;
using ClipSearch.Library.Indexing;
using ClipSearch.Library.Watching;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary>
/// <c>clipsearch index --model DIR [--library …] [--watch [--rescan-interval 5m]] FOLDER...</c>: adds folders to the
/// library and brings it up to date; with <c>--watch</c>, keeps them current until Ctrl-C, one line per change batch.
/// </summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var images = new ImageOptions();
        var library = new LibraryOption();
        var budget = new DecodeBudgetOption();
        var folders = new Argument<string[]>("folder") { Description = "Folders of images (recursive); without any, the library's folders.", Arity = ArgumentArity.ZeroOrMore };
        var reembed = new Option<bool>("--reembed") { Description = "The library holds another model's embeddings: drop them and embed every image with this model." };
        var json = new Option<bool>("--json") { Description = "Print what the run did as JSON (with --watch, one line per batch)." };
        var watch = new Option<bool>("--watch") { Description = "After indexing, keep watching the folders and index each change (new, changed, moved, deleted images) as it settles, until Ctrl-C." };
        var rescan = new RescanIntervalOption();
        var command = new Command("index", "Index folders of images into the library: new and changed files are embedded, moved ones recognised, deleted ones dropped.")
        {
            folders, reembed, json, watch,
        };
        rescan.AddTo(command);
        model.AddTo(command);
        images.AddTo(command);
        library.AddTo(command);
        budget.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            images.Validate(result);
            var rescanInterval = rescan.Value(result);
            if (rescan.Given(result) && !result.GetValue(watch))
            {
                throw new Core.ClipSearchException("--rescan-interval says how often --watch rescans: add --watch.");
            }

            var loadOptions = images.LoadOptions(result);
            loadOptions = loadOptions with { Budget = new Core.Imaging.DecodeBudget(budget.Bytes(result, loadOptions.MaxPixels)) };
            await using var lib = await library.OpenAsync(result, cancellationToken, create: true).ConfigureAwait(false);
            var given = result.GetValue(folders) ?? [];
            IReadOnlyList<string> roots = given.Length > 0 ? given : await lib.GetFoldersAsync(cancellationToken).ConfigureAwait(false);
            if (roots.Count == 0)
            {
                throw new Core.ClipSearchException($"The library {lib.Location} has no folders yet: give one or more FOLDER arguments.");
            }

            // The text encoder too when the library's recall check has no text queries of this model yet (embedded once).
            var encoders = await lib.NeedsTextQueriesAsync(cancellationToken).ConfigureAwait(false) ? Core.Model.Encoders.Both : Core.Model.Encoders.Vision;
            using var clip = model.Load(result, encoders);
            var options = new IndexerOptions { LoadOptions = loadOptions, DecoderThreads = images.DecoderThreads(result) };
            var outcome = await CliProgress.RunAsync(
                [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()],
                context => lib.IndexAsync(clip, roots, options, result.GetValue(reembed), new IndexReporter(context), cancellationToken)).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(outcome);
            }
            else
            {
                var folders = outcome.FolderErrors switch
                {
                    0 => "",
                    1 => ", 1 folder not read",
                    var n => $", {n} folders not read",
                };
                Console.Error.WriteLine(
                    $"{lib.Location}: {outcome.Scanned} images found, {outcome.Unchanged} unchanged, {outcome.Embedded} embedded, " +
                    $"{outcome.Reused} recognised (moved or copied), {outcome.Removed} removed, {outcome.Failed} failed{folders} " +
                    $"in {outcome.Elapsed.TotalSeconds:F1} s" + (outcome.Failed + outcome.FolderErrors > 0 ? " (see: clipsearch library errors)" : ""));
                if (await lib.DescribeSearchAsync(cancellationToken).ConfigureAwait(false) is { Recall: not null } method)
                {
                    Console.Error.WriteLine($"Search: {SearchMethodText.Of(method)}");
                }

                foreach (var line in SkippedText.Lines(outcome.Skipped))
                {
                    Console.Error.WriteLine(line);
                }
            }

            if (result.GetValue(watch))
            {
                return await WatchAsync(lib, clip, roots, options, rescanInterval, result.GetValue(json), cancellationToken).ConfigureAwait(false);
            }

            // A folder that could not be listed is an input not read, like a file that could not be.
            return outcome.Failed + outcome.FolderErrors > 0 ? CliApp.PartlyFailed : CliApp.Ok;
        });
        return command;
    }

    /// <summary>
    /// Watches <paramref name="roots"/> until <paramref name="cancellationToken"/> (Ctrl-C) is cancelled: a line per run
    /// that changed something (stdout with <paramref name="json"/>, else stderr), then a clean stop (the run in flight
    /// commits what it finished) and exit code 130.
    /// </summary>
    private static async Task<int> WatchAsync(Library.ImageLibrary lib, Core.Model.ClipModel clip, IReadOnlyList<string> roots, IndexerOptions options,
        TimeSpan? rescanInterval, bool json, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }

        // The index run just made is the rescan at start.
        await using var watcher = new LibraryWatcher(LibraryWatcher.IndexerFor(lib, clip, options), new WatcherOptions { RescanInterval = rescanInterval, RescanAtStart = false });
        var write = new Lock();
        watcher.Warning += (_, message) =>
        {
            lock (write)
            {
                Console.Error.WriteLine($"warning: {message}");
            }
        };
        watcher.BatchIndexed += (_, batch) =>
        {
            lock (write)
            {
                if (json)
                {
                    Output.Json(batch);
                }
                else if (WatchText.Line(batch) is { } line)
                {
                    Console.Error.WriteLine(line);
                }
            }
        };
        watcher.SetFolders(roots);
        watcher.Start();
        Console.Error.WriteLine($"Watching {roots.Count} folder(s) for changes, rescanning " +
            (rescanInterval is { } every ? $"every {every.TotalSeconds:0} s" : "never") + " (Ctrl+C stops)");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: stop cleanly below.
        }

        await watcher.StopAsync().ConfigureAwait(false);
        Console.Error.WriteLine("Stopped watching: what was indexed is committed; changes not yet indexed are found by the next run.");
        return 130;
    }

    /// <summary>Indexing progress on stderr (<see cref="CliProgress"/>): images/s and ETA; a bar on a terminal, a line every 5 s otherwise.</summary>
    private sealed class IndexReporter(ProgressContext? context) : IProgress<IndexProgress>
    {
        private readonly CliProgress.Throttle _throttle = new();
        private ProgressTask? _task;

        public void Report(IndexProgress value)
        {
            if (value.Phase != IndexPhase.Indexing || value.Total == 0)
            {
                return;
            }

            var counts = $"{value.ImagesPerSecond:F1} images/s ({value.Embedded} embedded, {value.Reused} recognised, {value.Failed} failed)";
            if (context is not null)
            {
                _task ??= context.AddTask("new or changed images", maxValue: value.Total);
                _task.MaxValue = value.Total;
                _task.Value = value.Done;
                _task.Description = Markup.Escape($"{value.Done}/{value.Total} new or changed images, {counts}");
            }
            else if (_throttle.Due())
            {
                var eta = value.Eta is { } e ? $"ETA {e:hh\\:mm\\:ss}" : "ETA …";
                CliProgress.Line($"{value.Done}/{value.Total} new or changed images, {value.ImagesPerSecond:F1} images/s, {eta} ({value.Embedded} embedded, {value.Reused} recognised, {value.Failed} failed)");
            }
        }
    }
}
