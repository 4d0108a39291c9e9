using System.Diagnostics;

namespace ClipSearch.Tests;

/// <summary>Runs the built <c>clipsearch</c> as a child process with the given environment, and captures what it prints.</summary>
internal static class CliRunner
{
    /// <summary>Variables of the developer's shell that would change what the child does; tests set them explicitly.</summary>
    private static readonly string[] _cleared = ["HF_ENDPOINT", "HF_TOKEN", "CLIPSEARCH_HOME", "CLIPSEARCH_TOKEN", "XDG_CACHE_HOME", "XDG_DATA_HOME"];

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(params string[] args) => RunAsync(new Dictionary<string, string>(), args);

    public static Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) => RunInAsync(null, environment, args);

    /// <summary>Runs in <paramref name="workingDirectory"/> (null: the test's own).</summary>
    public static Task<Result> RunInAsync(string? workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunWrappedAsync([], workingDirectory, environment, args);

    /// <summary>Runs <c>dotnet clipsearch.dll</c> under <paramref name="wrapper"/> (a command and its arguments, such as another user's; none: directly).</summary>
    public static async Task<Result> RunWrappedAsync(string[] wrapper, string? workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = StartInfo(args, wrapper);
        start.WorkingDirectory = workingDirectory ?? "";
        start.RedirectStandardInput = true;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);   // a hung child must not outlive the test
            throw;
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts <c>clipsearch</c> and returns at once (the caller waits, signals or kills it); each line it writes
    /// to stderr goes to <paramref name="onStderrLine"/>.
    /// </summary>
    /// <remarks>
    /// The child starts with SIGINT at its default disposition (coreutils' <c>env --default-signal=INT</c>): a test
    /// host started as a background job of a script inherits SIGINT ignored, which .NET, like every POSIX program,
    /// keeps ignoring — a test that sends Ctrl-C would then see it lost, whatever ClipSearch does.
    /// </remarks>
    public static Process Start(string[] args, Action<string>? onStderrLine = null, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = StartInfo(args, ["env", "--default-signal=INT"]);
        start.WorkingDirectory = workingDirectory ?? "";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onStderrLine?.Invoke(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static ProcessStartInfo StartInfo(string[] args, string[]? wrapper = null)
    {
        string[] command = [.. wrapper ?? [], "dotnet", Path.Combine(AppContext.BaseDirectory, "clipsearch.dll"), .. args];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in command[1..])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in _cleared)
        {
            start.Environment.Remove(name);
        }

        return start;
    }
}
