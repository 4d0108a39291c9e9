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
        Assert.Contains("CLIPSEARCH_HOME", error.Message);
    }
}
