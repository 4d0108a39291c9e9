using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ClipSearch.Cli.Commands;

/// <summary><c>--rescan-interval</c>: how often a watcher rescans every folder (<c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, seconds without a unit; <c>0</c>: never).</summary>
internal sealed partial class RescanIntervalOption
{
    private readonly Option<string?> _option = new("--rescan-interval")
    {
        Description = "How often the watcher rescans every folder as a safety net, e.g. 30s, 5m, 2h (0: never, events only; default 5m). The only way changes are seen where the file system has no events (many network mounts).",
    };

    public void AddTo(Command command) => command.Options.Add(_option);

    /// <summary>Whether it was given.</summary>
    public bool Given(ParseResult result) => result.GetResult(_option) is { Implicit: false };

    /// <summary>The interval (null: none), the default when not given.</summary>
    /// <exception cref="Core.ClipSearchException">Not a duration, or over 30 days.</exception>
    public TimeSpan? Value(ParseResult result) => Parse(result.GetValue(_option));

    /// <summary>Parses a duration as the option takes it.</summary>
    /// <exception cref="Core.ClipSearchException">Not a duration, or over 30 days.</exception>
    public static TimeSpan? Parse(string? text)
    {
        if (text is null)
        {
            return Library.Watching.WatcherOptions.DefaultRescanInterval;
        }

        var match = Duration().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            throw new Core.ClipSearchException($"--rescan-interval takes a duration such as 30s, 5m or 2h, or 0 for none; '{text}' is not one.");
        }

        var seconds = n * match.Groups["unit"].Value.ToLowerInvariant() switch
        {
            "ms" => 0.001,
            "m" or "min" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => 1,
        };
        if (seconds > 30 * 86400)
        {
            throw new Core.ClipSearchException($"--rescan-interval is at most 30 days; '{text}' is longer.");
        }

        if (seconds > 0 && seconds < 1)
        {
            throw new Core.ClipSearchException($"--rescan-interval is at least 1 s (or 0 for none); '{text}' is shorter.");
        }

        return seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
    }

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)\s*(?<unit>ms|s|min|m|h|d)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
