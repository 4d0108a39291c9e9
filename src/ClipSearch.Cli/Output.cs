using System.Text.Json;
using System.Text.Json.Serialization;
using ClipSearch.Core.Pipeline;
using Spectre.Console;

namespace ClipSearch.Cli;

/// <summary>How commands write: JSON (stable, documented in the README) or tables for a person; progress on stderr.</summary>
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
    /// Progress of a long image run on stderr: a live bar on a terminal, a line every few seconds otherwise.
    /// </summary>
    public sealed class EmbeddingReporter : IProgress<EmbeddingProgress>
    {
        private readonly bool _interactive = !Console.IsErrorRedirected;
        private DateTime _lastLine = DateTime.MinValue;

        public EmbeddingProgress? Last { get; private set; }

        public void Report(EmbeddingProgress value)
        {
            Last = value;
            var now = DateTime.UtcNow;
            if (_interactive)
            {
                var width = 30;
                var filled = value.Total == 0 ? width : value.Done * width / value.Total;
                var eta = value.ImagesPerSecond > 0 ? TimeSpan.FromSeconds((value.Total - value.Done) / value.ImagesPerSecond) : TimeSpan.Zero;
                Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {value.Done}/{value.Total} images, {value.ImagesPerSecond:F1} images/s, ETA {eta:mm\\:ss}  ");
            }
            else if ((now - _lastLine).TotalSeconds >= 5 || value.Done == value.Total)
            {
                Console.Error.WriteLine($"{value.Done}/{value.Total} images, {value.ImagesPerSecond:F1} images/s");
                _lastLine = now;
            }
        }

        public void Finish()
        {
            if (_interactive && Last is not null)
            {
                Console.Error.WriteLine();
            }

            if (Last is { } last)
            {
                Console.Error.WriteLine($"embedded {last.Done - last.Failed} of {last.Total} images in {last.Elapsed.TotalSeconds:F1} s ({last.ImagesPerSecond:F1} images/s){(last.Failed > 0 ? $", {last.Failed} failed" : "")}");
            }
        }
    }
}
