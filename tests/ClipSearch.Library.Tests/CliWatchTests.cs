using System.Diagnostics;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary><c>clipsearch index --watch</c> and the watcher's options as a user runs them (a child process).</summary>
public sealed class CliWatchTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task IndexWatch_AddedAndDeletedFiles_OneLineEachThenCtrlCExits130()
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png");
        var db = temp.File("lib.db");
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var child = CliRunner.Start(["index", "--watch", "--model", Fixtures.Path("tiny-clip"), "--library", db, temp.File("photos")], stderr.Enqueue);
        try
        {
            await UntilLineAsync(stderr, child, l => l.StartsWith("Watching 1 folder(s) for changes", StringComparison.Ordinal));

            File.Copy(Fixtures.Path("images", "horse.png"), temp.File("photos", "horse.png"));
            await UntilLineAsync(stderr, child, l => l.EndsWith($"{temp.File("photos", "horse.png")}: 1 embedded, 0 recognised (moved or copied), 0 removed, 0 failed", StringComparison.Ordinal));
            File.Delete(temp.File("photos", "chelsea.png"));
            await UntilLineAsync(stderr, child, l => l.EndsWith($"{temp.File("photos", "chelsea.png")}: 0 embedded, 0 recognised (moved or copied), 1 removed, 0 failed", StringComparison.Ordinal));

            using (var interrupt = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync();
            }

            await child.WaitForExitAsync().WaitAsync(Bound);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }

        Assert.True(child.ExitCode == 130, $"exit code {child.ExitCode}; stderr:\n{string.Join('\n', stderr)}");
        await using var library = await ImageLibrary.OpenAsync(db);
        Assert.Equal([temp.File("photos", "astronaut.png"), temp.File("photos", "horse.png")], (await library.ListImagesAsync()).Select(i => i.Path).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("soon", "--rescan-interval takes a duration such as 30s, 5m or 2h, or 0 for none; 'soon' is not one.")]
    [InlineData("40d", "--rescan-interval is at most 30 days; '40d' is longer.")]
    [InlineData("200ms", "--rescan-interval is at least 1 s (or 0 for none); '200ms' is shorter.")]
    public async Task IndexWatch_BadRescanInterval_IsRefusedBeforeAnythingRuns(string value, string message)
    {
        using var temp = ImageFolder("astronaut.png");

        var run = await CliRunner.RunAsync("index", "--watch", "--rescan-interval", value, "--model", Fixtures.Path("tiny-clip"), "--library", temp.File("lib.db"), temp.File("photos"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.File("lib.db")));
    }

    [Fact]
    public async Task Serve_RescanIntervalWithNoWatch_IsRefused()
    {
        var run = await CliRunner.RunAsync("serve", "--no-watch", "--rescan-interval", "5m", "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--rescan-interval says how often the watcher rescans: it has no effect with --no-watch.", run.Stderr, StringComparison.Ordinal);
    }

    private static async Task UntilLineAsync(System.Collections.Concurrent.ConcurrentQueue<string> lines, Process child, Func<string, bool> match)
    {
        var deadline = Stopwatch.StartNew();
        while (!lines.Any(match))
        {
            if (child.HasExited)
            {
                Assert.Fail($"clipsearch exited ({child.ExitCode}); stderr:\n{string.Join('\n', lines)}");
            }

            if (deadline.Elapsed >= Bound)
            {
                Assert.Fail($"no such line within {Bound.TotalSeconds:0} s; stderr:\n{string.Join('\n', lines)}");
            }
            await Task.Delay(100);
        }
    }
}
