using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
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
            PresetsCommand.Create(),
        ];
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Set (to anything but empty or 0) to see the stack trace of an unexpected failure after its error line.</summary>
    public const string DebugVariable = "CLIPSEARCH_DEBUG";

    /// <summary>
    /// Parses and runs <paramref name="args"/>. Every failure is one line on stderr, <c>error: …</c>, and exit code 1:
    /// a <see cref="ClipSearchException"/> (worded by <see cref="CliErrors"/>: what is wrong and which option to change), a bad option value, a file the system
    /// refused (disk full, permissions), and also an unexpected exception — a bug — whose stack trace is printed only
    /// with <see cref="DebugVariable"/> set. Cancellation (Ctrl-C) is exit code 130.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        // Ctrl-C (and SIGTERM) cancel the command's token from the first moment, before parsing: System.CommandLine's
        // own handler, installed during the invocation, could lose a signal that came while it was being set up
        // (an index run then went on to the end). A second signal ends the process at once.
        using var interrupted = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = !interrupted.IsCancellationRequested;
            interrupted.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        try
        {
            var parse = Build().Parse(args);
            if (parse.Action is System.CommandLine.Invocation.ParseErrorAction && parse.CommandResult.Command.Action is not null)
            {
                // A command that runs, given a bad value or option: its errors, not its whole help.
                var help = $"(`{CommandPath(parse.CommandResult)} --help` lists its options)";
                foreach (var error in parse.Errors)
                {
                    await Console.Error.WriteLineAsync($"error: {error.Message} {help}").ConfigureAwait(false);
                }

                return Failed;
            }

            return await parse.InvokeAsync(config, interrupted.Token).ConfigureAwait(false);
        }
        catch (ClipSearchException e)
        {
            await Console.Error.WriteLineAsync($"error: {CliErrors.Describe(e)}").ConfigureAwait(false);
            return Failed;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file the system refused in a way no command turned into its own message (disk full, permissions).
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            await DebugAsync(e).ConfigureAwait(false);
            return Failed;
        }
#pragma warning disable CA1031 // The last resort: whatever escaped is one line for the user, not a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync(
                $"error: unexpected failure ({e.GetType().Name}): {e.Message} — this is a bug in ClipSearch; {DebugVariable}=1 shows where it happened").ConfigureAwait(false);
            await DebugAsync(e).ConfigureAwait(false);
            return Failed;
        }
    }

    private static async Task DebugAsync(Exception e)
    {
        if (Environment.GetEnvironmentVariable(DebugVariable) is { Length: > 0 } value && value != "0")
        {
            await Console.Error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
        }
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? result = command; result is CommandResult c; result = c.Parent)
        {
            names.Add(c.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
