using System.CommandLine;
using ClipSearch.Cli.Commands;
using ClipSearch.Core;

namespace ClipSearch.Cli;

/// <summary>The <c>clipsearch</c> command line: one command per file under Commands/.</summary>
public static class CliApp
{
    /// <summary>Exit code: success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: an error the user can fix (message on stderr); nothing was done.</summary>
    public const int Failed = 1;

    /// <summary>Exit code: some inputs could not be used (each named on stderr); the others were processed.</summary>
    public const int PartlyFailed = 3;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("ClipSearch: OpenAI CLIP ViT-B/32 on your machine — match images with text, classify them zero-shot, search your photo library by text or by example.");
        Command[] commands =
        [
            TokenizeCommand.Create(),
            PreprocessCommand.Create(),
            EmbedCommand.Create(),
            MatchCommand.Create(),
            InfoCommand.Create(),
            ModelCommand.Create(),
            ServeCommand.Create(),
            IndexCommand.Create(),
            SearchCommand.Create(),
            DuplicatesCommand.Create(),
            LibraryCommand.Create(),
        ];
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; user errors become one line on stderr and exit code 1.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return await Build().Parse(args).InvokeAsync(config).ConfigureAwait(false);
        }
        catch (ClipSearchException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return Failed;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
    }
}
