using System.Text.Json;
using System.Text.Json.Serialization;
using ClipSearch.Core.Pipeline;
using Spectre.Console;

namespace ClipSearch.Cli;

/// <summary>How commands write: JSON (stable, documented in docs/cli.md) or tables for a person; progress on stderr.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions _json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="value"/> as one line of JSON on stdout.</summary>
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, _json));

    /// <summary>The console for human output (stdout).</summary>
    public static IAnsiConsole Stdout { get; } = AnsiConsole.Console;

    /// <summary>A console on stderr for progress and warnings, so that stdout stays clean for data.</summary>
    public static IAnsiConsole Stderr { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Reports each failed input on stderr.</summary>
    public static void Warn(string message) => Console.Error.WriteLine($"warning: {message}");

    /// <summary>
    /// Runs <paramref name="work"/> with its progress shown on stderr: a Spectre.Console bar with images/s and time
    /// left on a terminal, a plain line every few seconds when stderr is redirected; a summary line at the end.
    /// </summary>
    public static async Task WithProgressAsync(int total, Func<IProgress<EmbeddingProgress>?, Task> work)
    {
        var last = new LastProgress();
        if (total <= 1)
        {
            await work(null).ConfigureAwait(false);
            return;
        }

        await CliProgress.RunAsync<bool>(
            [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn()],
            async context =>
            {
                var task = context?.AddTask("embedding images", maxValue: total);
                var throttle = new CliProgress.Throttle();
                await work(new Progress(value =>
                {
                    last.Value = value;
                    if (task is not null)
                    {
                        task.Value = value.Done;
                        task.Description = $"embedding images ({value.ImagesPerSecond:F1}/s)";
                    }
                    else if (throttle.Due(force: value.Done == value.Total))
                    {
                        CliProgress.Line($"{value.Done}/{value.Total} images, {value.ImagesPerSecond:F1} images/s");
                    }
                })).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);

        if (last.Value is { } done)
        {
            CliProgress.Line($"embedded {done.Done - done.Failed} of {done.Total} images in {done.Elapsed.TotalSeconds:F1} s ({done.ImagesPerSecond:F1} images/s){(done.Failed > 0 ? $", {done.Failed} failed" : "")}");
        }
    }

    private sealed class LastProgress
    {
        public EmbeddingProgress? Value { get; set; }
    }

    /// <summary>Calls back on the reporting thread (System.Progress would post to the thread pool, out of order).</summary>
    private sealed class Progress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
