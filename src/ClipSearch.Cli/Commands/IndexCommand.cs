using System.CommandLine;
using ClipSearch.Library.Indexing;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch index --model DIR [--library …] FOLDER...</c>: adds folders to the library and brings it up to date.</summary>
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
        var json = new Option<bool>("--json") { Description = "Print what the run did as JSON." };
        var command = new Command("index", "Index folders of images into the library: new and changed files are embedded, moved ones recognised, deleted ones dropped.")
        {
            folders, reembed, json,
        };
        model.AddTo(command);
        images.AddTo(command);
        library.AddTo(command);
        budget.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            images.Validate(result);
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

            // A folder that could not be listed is an input not read, like a file that could not be.
            return outcome.Failed + outcome.FolderErrors > 0 ? CliApp.PartlyFailed : CliApp.Ok;
        });
        return command;
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
