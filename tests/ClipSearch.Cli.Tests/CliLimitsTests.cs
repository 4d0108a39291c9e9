namespace ClipSearch.Cli.Tests;

/// <summary>Threads, decoders, batch size and the image size limit: one rule (ClipSearch.Core.Limits), refused before any work.</summary>
public sealed class CliLimitsTests
{
    private static string TinyClip => Fixtures.Path("tiny-clip");

    private static string Horse => Fixtures.Path("images", "horse.png");

    public static TheoryData<string[], string> OutOfRange => new()
    {
        // Before: --threads 100000 started 32,419 threads; 0 said "Threads and batch size must be at least 1".
        { ["embed", "-m", TinyClip, "--text", "x", "--threads", "100000"], "The number of threads must be between 1 and 256 (got 100000)." },
        { ["embed", "-m", TinyClip, "--text", "x", "--threads", "0"], "The number of threads must be between 1 and 256 (got 0)." },
        { ["match", "-m", TinyClip, "--image", Horse, "--text", "x", "--threads", "-4"], "The number of threads must be between 1 and 256 (got -4)." },
        { ["embed", "-m", TinyClip, "--text", "x", "--batch-size", "0"], "The batch size must be between 1 and 256 (got 0)." },
        { ["embed", "-m", TinyClip, "--text", "x", "--batch-size", "1000000"], "The batch size must be between 1 and 256 (got 1000000)." },
        { ["embed", "-m", TinyClip, "--image", Horse, "--decoders", "0"], "The number of decoding threads must be between 1 and 256 (got 0)." },
        { ["embed", "-m", TinyClip, "--image", Horse, "--decoders", "-2"], "The number of decoding threads must be between 1 and 256 (got -2)." },
        { ["embed", "-m", TinyClip, "--image", Horse, "--decoders", "100000"], "The number of decoding threads must be between 1 and 256 (got 100000)." },
        // Before: accepted, then every image failed as "over the 0 megapixel limit".
        { ["embed", "-m", TinyClip, "--image", Horse, "--max-megapixels", "0"], "The image size limit must be between 1 and 10000 megapixels (got 0)." },
        { ["match", "-m", TinyClip, "--image", Horse, "--text", "x", "--max-megapixels", "-1"], "The image size limit must be between 1 and 10000 megapixels (got -1)." },
        { ["serve", "--threads", "100000"], "The number of threads must be between 1 and 256 (got 100000)." },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task Options_OutOfRange_AreOneErrorLineWithTheSharedLimits(string[] args, string message)
    {
        var result = await CliRunner.RunAsync(args);

        Assert.Equal((1, $"error: {message}"), (result.ExitCode, result.Stderr.Trim()));
    }

    [Fact]
    public async Task Index_ThreadsOutOfRange_IsRefusedBeforeTheLibraryIsCreated()
    {
        using var temp = new TempFolder();

        var result = await CliRunner.RunAsync("index", "-m", TinyClip, "--library", temp.File("lib.db"), "--threads", "100000", temp.Path);

        Assert.Equal((1, "error: The number of threads must be between 1 and 256 (got 100000)."), (result.ExitCode, result.Stderr.Trim()));
        Assert.False(File.Exists(temp.File("lib.db")));
    }
}
