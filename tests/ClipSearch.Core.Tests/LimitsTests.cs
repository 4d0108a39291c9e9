using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tests;

/// <summary>One rule for threads and batch sizes, applied by ClipModel.Load for every front end.</summary>
public sealed class LimitsTests
{
    [Theory]
    [InlineData(100_000, 16, "The number of threads must be between 1 and 256 (got 100000).")]
    [InlineData(0, 16, "The number of threads must be between 1 and 256 (got 0).")]
    [InlineData(-3, 16, "The number of threads must be between 1 and 256 (got -3).")]
    [InlineData(1, 0, "The batch size must be between 1 and 256 (got 0).")]
    [InlineData(1, 1_000_000, "The batch size must be between 1 and 256 (got 1000000).")]
    public void Load_ThreadsOrBatchSizeOutOfRange_IsRefusedBeforeAnythingIsLoaded(int threads, int batchSize, string message)
    {
        // No folder at all: the options are checked first, so no session (and no thread) is ever started.
        var e = Assert.Throws<ClipSearchException>(() => ClipModel.Load("/nonexistent", new ModelOptions { Threads = threads, BatchSize = batchSize }));

        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(Limits.MaxMegapixels + 1)]
    public void CheckMegapixels_OutOfRange_IsRefused(long megapixels)
    {
        var e = Assert.Throws<ClipSearchException>(() => Limits.CheckMegapixels(megapixels));

        Assert.Equal($"The image size limit must be between 1 and 10000 megapixels (got {megapixels}).", e.Message);
    }

    [Fact]
    public void Limits_InRange_AreReturned()
    {
        Assert.Equal((1, 256, 16, 100L), (Limits.CheckThreads(1), Limits.CheckThreads(256), Limits.CheckBatchSize(16), Limits.CheckMegapixels(100)));
    }
}
