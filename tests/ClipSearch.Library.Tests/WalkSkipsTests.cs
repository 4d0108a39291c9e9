using ClipSearch.Cli;
using ClipSearch.Library.Indexing;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// Issue 11: what a walk passes over is counted, never silent (files that are not images, by extension; kept per
/// folder as of its last walk), and a camera's RAW + JPEG pair is indexed once, as its JPEG.
/// </summary>
public sealed class WalkSkipsTests
{
    [Fact]
    public void Walk_FolderWithFilesThatAreNotImages_TakesTheImagesAndCountsTheRestByExtension()
    {
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        var year = Path.Combine(photos, "2024");
        var trip = Path.Combine(year, "trip");
        Directory.CreateDirectory(trip);
        for (var i = 0; i < 9; i++)
        {
            // Upper and lower case, at three depths: one key, ".mov".
            Touch(Path.Combine(i < 3 ? photos : i < 6 ? year : trip, i % 2 == 0 ? $"clip{i}.MOV" : $"clip{i}.mov"));
        }

        Touch(Path.Combine(trip, "a.jpg.xmp"), Path.Combine(trip, "b.xmp"), Path.Combine(year, "c.XMP"));
        Touch(Path.Combine(photos, "notes.txt"), Path.Combine(trip, "list.txt"));
        Touch(Path.Combine(year, "IMG_0001.aae"), Path.Combine(trip, "IMG_0002.AAE"));   // as many as .txt: by name then
        Touch(Path.Combine(photos, "README"));
        string[] images = [Path.Combine(photos, "a.jpg"), Path.Combine(year, "b.png"), Path.Combine(trip, "c.HEIC"), Path.Combine(trip, "d.dng"), Path.Combine(trip, "e.tif")];
        Touch(images);

        var listing = FolderWalker.List(photos);

        Assert.Equal(images.Order(StringComparer.Ordinal), listing.Files.Select(f => f.Path));
        Assert.Equal([(".mov", 9), (".xmp", 3), (".aae", 2), (".txt", 2), ("", 1)], listing.Skipped.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal((17, 0), (listing.Skipped.NotImageFiles, listing.Skipped.RawWithSibling));
    }

    [Fact]
    public void Walk_RawBesideAJpegOrHeicOfTheSameName_TakesOnlyTheProcessedPicture()
    {
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        var sub = Path.Combine(photos, "sub");
        Directory.CreateDirectory(sub);
        Touch(
            Path.Combine(photos, "IMG_1.CR2"), Path.Combine(photos, "IMG_1.JPG"),   // a camera's RAW + JPEG: the JPEG
            Path.Combine(photos, "IMG_2.NEF"),                                      // alone: taken
            Path.Combine(photos, "IMG_3.dng"), Path.Combine(photos, "img_3.heic"),  // case aside: the HEIC
            Path.Combine(photos, "IMG_4.JPG"), Path.Combine(sub, "IMG_4.ARW"),      // another folder: both
            Path.Combine(photos, "IMG_5.CR3"), Path.Combine(photos, "IMG_5.png"));  // a PNG is no camera's sibling: both

        var listing = FolderWalker.List(photos);

        string[] taken = ["IMG_1.JPG", "IMG_2.NEF", "IMG_4.JPG", "IMG_5.CR3", "IMG_5.png", "img_3.heic", "sub/IMG_4.ARW"];
        Assert.Equal(taken.Select(t => Path.Combine(photos, t)), listing.Files.Select(f => f.Path));
        Assert.Equal(2, listing.Skipped.RawWithSibling);
        Assert.Empty(listing.Skipped.NotImages);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_RawWhoseJpegIsDeleted_IsIndexedAtTheNextRun(string kind)
    {
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        Directory.CreateDirectory(photos);
        // No real raw files: the walk decides by name, and a raw file that cannot be decoded is still recorded.
        File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(photos, "IMG_1.CR2"));
        File.Copy(Fixtures.Path("images", "exif_orientation6.jpg"), Path.Combine(photos, "IMG_1.JPG"));
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(photos, "IMG_2.NEF"));
        await using var lib = await OpenAsync(kind, temp);
        await using var store = await lib.OpenStoreAsync();

        var paired = await lib.Library.IndexAsync(Model, [photos]);
        var pairedFiles = (await store.GetFilesUnderAsync(photos)).Select(f => f.Path).Order(StringComparer.Ordinal).ToList();
        var pairedStats = await lib.Library.GetStatsAsync();
        File.Delete(Path.Combine(photos, "IMG_1.JPG"));
        var alone = await lib.Library.IndexAsync(Model, [photos]);
        var aloneFiles = (await store.GetFilesUnderAsync(photos)).Select(f => f.Path).Order(StringComparer.Ordinal).ToList();

        Assert.Equal((2, 1), (paired.Scanned, paired.Skipped.RawWithSibling));
        Assert.Equal([Path.Combine(photos, "IMG_1.JPG"), Path.Combine(photos, "IMG_2.NEF")], pairedFiles);
        Assert.Equal((2L, 1), (pairedStats.Files, pairedStats.Skipped.RawWithSibling));
        Assert.Equal((2, 1, 1, 0), (alone.Scanned, alone.Unchanged, alone.Removed, alone.Skipped.RawWithSibling));
        Assert.Equal([Path.Combine(photos, "IMG_1.CR2"), Path.Combine(photos, "IMG_2.NEF")], aloneFiles);
        Assert.Equal(0, (await lib.Library.GetStatsAsync()).Skipped.RawWithSibling);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Stats_FoldersIndexedAgainAndRemoved_CountTheLastWalkOfEachFolder(string kind)
    {
        using var temp = ImageFolder("horse.png");
        var photos = temp.File("photos");
        var other = temp.File("other");
        Directory.CreateDirectory(other);
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(other, "coffee.png"));
        Touch(Path.Combine(photos, "a.mov"), Path.Combine(photos, "b.mov"), Path.Combine(photos, "c.mov"), Path.Combine(photos, "notes.txt"));
        Touch(Path.Combine(other, "a.xmp"), Path.Combine(other, "b.xmp"));
        await using var lib = await OpenAsync(kind, temp);
        await using var store = await lib.OpenStoreAsync();

        var both = await lib.Library.IndexAsync(Model, [photos, other]);
        var statsBoth = (await lib.Library.GetStatsAsync()).Skipped;
        File.Delete(Path.Combine(photos, "a.mov"));
        File.Delete(Path.Combine(photos, "b.mov"));
        Touch(Path.Combine(photos, "more.txt"));
        await lib.Library.IndexAsync(Model, [photos]);
        var statsAgain = (await lib.Library.GetStatsAsync()).Skipped;
        var byFolder = await store.GetSkippedAsync();
        await lib.Library.RemoveFolderAsync(other);
        var statsRemoved = (await lib.Library.GetStatsAsync()).Skipped;

        Assert.Equal([(".mov", 3), (".xmp", 2), (".txt", 1)], both.Skipped.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal([(".mov", 3), (".xmp", 2), (".txt", 1)], statsBoth.NotImages.Select(e => (e.Extension, e.Count)));
        // Replaced, not added to: photos's second walk met one .mov and two .txt (added up, it would be .mov ×4).
        Assert.Equal([(".txt", 2), (".xmp", 2), (".mov", 1)], statsAgain.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal([other, photos], byFolder.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([(".txt", 2), (".mov", 1)], byFolder[photos].NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal([(".txt", 2), (".mov", 1)], statsRemoved.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal([photos], (await store.GetSkippedAsync()).Keys);
    }

    [Fact]
    public async Task Stats_FolderBelowAnotherFolderOfTheLibrary_IsCountedOnce()
    {
        using var temp = ImageFolder("horse.png");
        var photos = temp.File("photos");
        var sub = Path.Combine(photos, "sub");
        Directory.CreateDirectory(sub);
        Touch(Path.Combine(sub, "clip.mov"), Path.Combine(photos, "notes.txt"));
        await using var lib = await OpenAsync(Sqlite, temp);

        await lib.Library.IndexAsync(Model, [sub]);
        var both = await lib.Library.IndexAsync(Model, [photos, sub]);
        var stats = await lib.Library.GetStatsAsync();

        Assert.Equal([(".mov", 1), (".txt", 1)], both.Skipped.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal([(".mov", 1), (".txt", 1)], stats.Skipped.NotImages.Select(e => (e.Extension, e.Count)));
    }

    [Fact]
    public void SkippedText_MoreExtensionsThanShown_NamesTheLargestAndSaysHowManyMore()
    {
        var skipped = new SkippedFiles(
            [new(".mov", 9), new("", 4), .. Enumerable.Range(0, 8).Select(i => new ExtensionCount($".e{i}", 1)), new(".MOV", 1)], 3);

        Assert.Equal(
            ["skipped 22 files that are not images: .mov ×10, (no extension) ×4, .e0 ×1, .e1 ×1, .e2 ×1, .e3 ×1, .e4 ×1, .e5 ×1, …and 2 more",
             "passed over 3 RAW files that have a JPEG or HEIC beside them"],
            SkippedText.Lines(skipped));
        Assert.Equal(["skipped 1 file that is not an image: .txt ×1", "passed over 1 RAW file that has a JPEG or HEIC beside it"],
            SkippedText.Lines(new SkippedFiles([new(".txt", 1)], 1)));
        Assert.Empty(SkippedText.Lines(SkippedFiles.None));
    }

    private static void Touch(params string[] paths)
    {
        foreach (var path in paths)
        {
            File.WriteAllBytes(path, []);
        }
    }
}
