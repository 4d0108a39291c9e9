using ClipSearch.Core;

namespace ClipSearch.Hub.Tests;

public sealed class DiskSpaceTests
{
    [Fact]
    public void EnsureRoom_MoreThanTheDiskHolds_SaysWhatIsNeededAndFree()
    {
        using var folder = new TempFolder();

        var error = Assert.Throws<ClipSearchException>(() => DiskSpace.EnsureRoom(folder.Path, 1L << 60));

        Assert.StartsWith($"Not enough disk space for the download: it needs {(1L << 60) / 1e6:F0} MB in {folder.Path}", error.Message);
        Assert.Equal((ErrorCodes.DiskFull, 1L << 60, folder.Path), (error.Code, (long)error.Arguments[0], (string)error.Arguments[1]));
        Assert.True((long)error.Arguments[2] < 1L << 60);
        Assert.DoesNotContain("CLIPSEARCH_HOME", error.Message, StringComparison.Ordinal);
        // The CLI gives its own advice: the home variable and its --dir option.
        Assert.EndsWith(". Free some space, set CLIPSEARCH_HOME to another disk, or pass --dir.", Cli.CliErrors.Describe(error), StringComparison.Ordinal);
    }
}
