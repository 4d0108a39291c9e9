using Spectre.Console;

namespace ClipSearch.Cli;

/// <summary>
/// The one way commands show progress, on stderr (stdout stays clean for data and JSON): Spectre.Console bars where
/// a terminal is attached, plain lines otherwise (a log, a pipe, the tests), at most every <see cref="PlainInterval"/>
/// for the same kind of line.
/// </summary>
internal static class CliProgress
{
    /// <summary>Fewest seconds between two plain lines that only update a count.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>Whether stderr is a terminal that can redraw bars.</summary>
    public static bool OnTerminal => !Console.IsErrorRedirected && Output.Stderr.Profile.Capabilities.Interactive;

    /// <summary>
    /// Runs <paramref name="work"/> with a Spectre.Console progress display of <paramref name="columns"/> on a terminal
    /// (its context is passed in), or with null, for plain lines (<see cref="Line"/>, <see cref="Throttle"/>).
    /// </summary>
    public static async Task<T> RunAsync<T>(ProgressColumn[] columns, Func<ProgressContext?, Task<T>> work)
    {
        if (!OnTerminal)
        {
            return await work(null).ConfigureAwait(false);
        }

        return await Output.Stderr.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(columns)
            .StartAsync(context => work(context)).ConfigureAwait(false);
    }

    /// <summary>A plain progress line on stderr.</summary>
    public static void Line(string text) => Console.Error.WriteLine(text);

    /// <summary>Tells when the next plain count line is due (the first at once, then every <see cref="PlainInterval"/>).</summary>
    public sealed class Throttle
    {
        private DateTime _last = DateTime.MinValue;

        /// <summary>True (and the clock restarts) when a line is due, or when <paramref name="force"/>.</summary>
        public bool Due(bool force = false)
        {
            var now = DateTime.UtcNow;
            if (!force && now - _last < PlainInterval)
            {
                return false;
            }

            _last = now;
            return true;
        }
    }
}
