using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>A file's encoded bytes and its decode come from the decode budget in one lease, taken before the file is read.</summary>
public sealed class BudgetedFileTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LoadCropAsync_File_TakesItsSizeAndItsDecodeInOneLease()
    {
        using var folder = new TempFolder();
        var path = folder.File("progressive.jpg");
        var jpeg = LargeImages.Jpeg(2000, 1500, JpegLayout.Progressive);
        await File.WriteAllBytesAsync(path, jpeg);
        var budget = new DecodeBudget();
        var options = new ImageLoadOptions { Budget = budget };

        await ImageLoader.LoadCropAsync(path, PreprocessConfig.Default, options).WaitAsync(Patience);

        Assert.Equal(1, budget.Grants);
        Assert.Equal(jpeg.Length + ImageLoader.PeakBytes(jpeg, path, PreprocessConfig.Default, options), budget.Peak);
        // The coefficients of a progressive file (6 bytes a pixel at 4:4:4) are in the decode's cost.
        Assert.True(ImageLoader.PeakBytes(jpeg, path, PreprocessConfig.Default, options) > 6L * 2000 * 1500);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task LoadCropAsync_BudgetHeldByOthers_DoesNotReadTheFileUntilItFits()
    {
        using var folder = new TempFolder();
        var path = folder.File("big.png");
        await File.WriteAllBytesAsync(path, TestImages.SolidPng(1000, 1000));
        var budget = new DecodeBudget(DecodeBudget.MinimumFor(1_000_000));
        var options = new ImageLoadOptions { Budget = budget };
        var held = await budget.AcquireAsync(budget.Capacity);
        using var reads = new StalledReads(folder.Path);

        var load = ImageLoader.LoadCropAsync(path, PreprocessConfig.Default, options);
        for (var i = 0; i < 100 && budget.Waiting == 0; i++)
        {
            await Task.Delay(20);
        }

        await Task.Delay(100);
        Assert.Equal(1, budget.Waiting);
        Assert.Equal(0, reads.Stalled);   // only its head was read (to size the lease), not the file

        held.Dispose();
        for (var i = 0; i < 250 && reads.Stalled == 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, reads.Stalled);   // read once it fits
        reads.Dispose();
        var crop = await load.WaitAsync(Patience);
        Assert.Equal(224, crop.Width);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void LoadCrop_HeaderAfterLongMetadata_IsReadFromALongerHead()
    {
        using var folder = new TempFolder();
        var path = folder.File("metadata.jpg");
        var jpeg = WithAppSegments(LargeImages.Jpeg(1200, 900, JpegLayout.Progressive), 5);   // ~320 KB before the frame header
        File.WriteAllBytes(path, jpeg);
        var budget = new DecodeBudget();
        var options = new ImageLoadOptions { Budget = budget };

        ImageLoader.LoadCrop(path, PreprocessConfig.Default, options);

        Assert.True(jpeg.Length > 4 * BudgetedFile.FirstHeadBytes);
        Assert.Equal(jpeg.Length + ImageLoader.PeakBytes(jpeg, path, PreprocessConfig.Default, options), budget.Peak);
    }

    [Fact]
    public void LoadCrop_HeaderPastTheLongestHead_IsChargedTheWorstCase()
    {
        using var folder = new TempFolder();
        var path = folder.File("metadata.jpg");
        var segments = (BudgetedFile.MaxHeadBytes / 65_533) + 2;
        var jpeg = WithAppSegments(LargeImages.Jpeg(64, 48, JpegLayout.Baseline), segments);
        File.WriteAllBytes(path, jpeg);
        var budget = new DecodeBudget(long.MaxValue / 4);
        var options = new ImageLoadOptions { Budget = budget, MaxPixels = 1_000_000 };

        var crop = ImageLoader.LoadCrop(path, PreprocessConfig.Default, options);

        Assert.Equal(224, crop.Width);
        Assert.Equal(jpeg.Length + (BudgetedFile.WorstCaseBytesPerPixel * options.MaxPixels), budget.Peak);
        Assert.Equal(1, budget.Grants);
    }

    [Fact]
    public void LoadCrop_MissingFile_SaysSoAndTakesNothing()
    {
        var budget = new DecodeBudget();
        var error = Assert.Throws<ImageLoadException>(() =>
            ImageLoader.LoadCrop("/nonexistent/clipsearch/x.jpg", PreprocessConfig.Default, new ImageLoadOptions { Budget = budget }));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, budget.Grants);
    }

    // APP15 segments of 65,533 bytes each right after SOI: metadata before the frame header, as big EXIF, ICC or
    // XMP blocks are.
    private static byte[] WithAppSegments(byte[] jpeg, int count)
    {
        using var file = new MemoryStream();
        file.Write(jpeg, 0, 2);
        var payload = new byte[65_533];
        for (var i = 0; i < count; i++)
        {
            file.Write([0xFF, 0xEF, 0xFF, 0xFF]);
            file.Write(payload);
        }

        file.Write(jpeg, 2, jpeg.Length - 2);
        return file.ToArray();
    }
}
