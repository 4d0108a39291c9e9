using System.CommandLine;
using ClipSearch.Library;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch library stats|errors|folders|remove</c>: what is in the library.</summary>
internal static class LibraryCommand
{
    public static Command Create()
    {
        var command = new Command("library", "What the library holds: stats, errors, folders; remove a folder.");
        command.Subcommands.Add(Stats());
        command.Subcommands.Add(Errors());
        command.Subcommands.Add(Folders());
        command.Subcommands.Add(Remove());
        return command;
    }

    // A subcommand that opens the library (--library), runs, and closes it again.
    private static Command OnLibrary(Command command, Func<ImageLibrary, ParseResult, CancellationToken, Task<int>> run)
    {
        var library = new LibraryOption();
        library.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            await using var lib = await library.OpenAsync(result, cancellationToken).ConfigureAwait(false);
            return await run(lib, result, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Stats()
    {
        var json = new Option<bool>("--json") { Description = "Print as JSON." };
        return OnLibrary(new Command("stats", "Where the library is, its folders, how many files, embeddings and errors, its model and size.") { json }, async (lib, result, cancellationToken) =>
        {
            var stats = await lib.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(stats);
                return CliApp.Ok;
            }

            var grid = new Grid().AddColumns(2);
            grid.AddRow("library", Markup.Escape(stats.Location));
            grid.AddRow("model", Markup.Escape(stats.Model ?? "(none yet)"));
            grid.AddRow("folders", Markup.Escape(stats.Folders.Count == 0 ? "(none)" : string.Join("\n", stats.Folders)));
            grid.AddRow("files", $"{stats.Files} ({stats.Indexed} indexed, {stats.Failed} failed)");
            if (stats.FolderErrors > 0)
            {
                grid.AddRow("folders not read", $"{stats.FolderErrors} (see: clipsearch library errors)");
            }

            if (SkippedText.NotImages(stats.Skipped) is { } notImages)
            {
                grid.AddRow("skipped", Markup.Escape(notImages));
            }

            if (SkippedText.RawWithSibling(stats.Skipped) is { } raw)
            {
                grid.AddRow("passed over", Markup.Escape(raw));
            }

            grid.AddRow("embeddings", $"{stats.Contents} distinct contents");
            grid.AddRow("size", $"{stats.StorageBytes / 1024.0 / 1024.0:F1} MiB");
            grid.AddRow("search", Markup.Escape(SearchMethodText.Of(await lib.DescribeSearchAsync(cancellationToken).ConfigureAwait(false))));
            Output.Stdout.Write(grid);
            return CliApp.Ok;
        });
    }

    private static Command Errors()
    {
        var json = new Option<bool>("--json") { Description = "Print [{\"path\",\"error\"}] as JSON." };
        return OnLibrary(new Command("errors", "Files that could not be indexed, with the reason.") { json }, async (lib, result, cancellationToken) =>
        {
            var errors = await lib.GetErrorsAsync(cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(errors);
                return CliApp.Ok;
            }

            foreach (var error in errors)
            {
                // Every message names its file first; one that would not is given its path.
                Console.Out.WriteLine(error.Error.StartsWith(error.Path, StringComparison.Ordinal) ? error.Error : $"{error.Path}: {error.Error}");
            }

            var stats = await lib.GetStatsAsync(cancellationToken).ConfigureAwait(false);
            Console.Error.WriteLine(stats.FolderErrors > 0
                ? $"{stats.Failed} files could not be indexed, {stats.FolderErrors} folders could not be read"
                : $"{stats.Failed} files could not be indexed");
            return CliApp.Ok;
        });
    }

    private static Command Folders() =>
        OnLibrary(new Command("folders", "The library's folders (what 'clipsearch index' without FOLDER indexes)."), async (lib, _, cancellationToken) =>
        {
            foreach (var folder in await lib.GetFoldersAsync(cancellationToken).ConfigureAwait(false))
            {
                Console.Out.WriteLine(folder);
            }

            return CliApp.Ok;
        });

    private static Command Remove()
    {
        var folder = new Argument<string>("folder") { Description = "A folder of the library." };
        return OnLibrary(new Command("remove", "Remove a folder and its files from the library (the files on disk are untouched).") { folder }, async (lib, result, cancellationToken) =>
        {
            await lib.RemoveFolderAsync(result.GetRequiredValue(folder), cancellationToken).ConfigureAwait(false);
            return CliApp.Ok;
        });
    }
}
