using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// Filtered searches equal an exact search over the images that pass (computed here by brute force over the stored
/// embeddings), on both stores; browsing is newest first and pages neither skip nor repeat; dates and types parse.
/// </summary>
public sealed class LibraryFilterTests
{
    private static readonly string[] _names = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "horse.png", "motorcycle_right.png", "page.png", "gradient_640x480.png"];

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Search_EveryFilter_EqualsAnExactSearchOverThePassingImages(string kind)
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(kind, temp);
        var images = await IndexWithMetadataAsync(lib, temp);
        var query = (await lib.Library.GetEmbeddingAsync(images[0].Id))!;
        LibraryFilter[] filters =
        [
            LibraryFilter.Parse([temp.File("a")], null, null, null),                       // not a2, which shares the prefix
            LibraryFilter.Parse([temp.File("a2")], null, null, null),
            LibraryFilter.Parse([temp.File("a"), temp.File("b", "deep")], null, null, null),
            LibraryFilter.Parse(null, "2021", null, null),
            LibraryFilter.Parse(null, null, "2020-06", null),                              // the end of June 2020 included
            LibraryFilter.Parse(null, "2020-06-15", "2020-06-15", null),                   // one day
            LibraryFilter.Parse(null, null, null, ["heic,tiff"]),
            LibraryFilter.Parse([temp.File("b")], "2019", "2022", ["jpg"]),
            LibraryFilter.Parse([temp.File("nowhere")], null, null, null),
        ];

        foreach (var filter in filters)
        {
            var expected = images.Where(i => filter.Passes(i.Path, i.Metadata))
                .Select(i => (i.Path, Score: Dot(query, i.Embedding)))
                .OrderByDescending(i => i.Score).ThenBy(i => i.Path, StringComparer.Ordinal).Take(5).ToList();

            var hits = await lib.Library.SearchVectorAsync(query, 5, filter);

            Assert.Equal(expected.Select(e => e.Path), hits.Select(h => h.Path));
            Assert.Equal(expected.Select(e => e.Score), hits.Select(h => h.Score), (x, y) => Math.Abs(x - y) < 1e-5f);
            Assert.All(hits, h => Assert.True(filter.Passes(h.Path, h.Metadata)));
        }

        var byDate = await lib.Library.SearchVectorAsync(query, 4, LibraryFilter.None, LibrarySort.Date);
        var best = await lib.Library.SearchVectorAsync(query, 4);
        Assert.Equal(best.Select(h => h.Path).Order(StringComparer.Ordinal), byDate.Select(h => h.Path).Order(StringComparer.Ordinal));
        Assert.Equal(byDate.OrderByDescending(h => h.Metadata!.TakenAt).Select(h => h.Path), byDate.Select(h => h.Path));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Browse_NewestFirstPagedWithoutGapsOrRepeats_MonthsAndFoldersCounted(string kind)
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(kind, temp);
        var images = await IndexWithMetadataAsync(lib, temp);

        var pages = new List<Storage.IndexedImage>();
        for (var offset = 0; ; offset += 3)
        {
            var page = await lib.Library.BrowseAsync(null, offset, 3);
            Assert.Equal(images.Count, page.Total);
            if (page.Images.Count == 0)
            {
                break;
            }

            pages.AddRange(page.Images);
        }

        var filtered = await lib.Library.BrowseAsync(LibraryFilter.Parse(null, "2021", "2021", null), 0, 100);
        var months = await lib.Library.GetMonthsAsync();
        var tree = await lib.Library.GetFolderTreeAsync();

        Assert.Equal(images.OrderByDescending(i => i.Metadata.TakenAt).ThenByDescending(i => i.Id).Select(i => i.Path), pages.Select(p => p.Path));
        Assert.Equal(images.Where(i => i.Metadata.TakenAt.Year == 2021).OrderByDescending(i => i.Metadata.TakenAt).Select(i => i.Path), filtered.Images.Select(i => i.Path));
        Assert.Equal(
            images.GroupBy(i => (i.Metadata.TakenAt.Year, i.Metadata.TakenAt.Month)).OrderByDescending(g => g.Key).Select(g => new MonthCount(g.Key.Year, g.Key.Month, g.Count())),
            months);
        Assert.Equal([(temp.File("a"), 3L, true), (temp.File("a2"), 2L, true), (temp.File("b"), 3L, true), (temp.File("b", "deep"), 2L, false)],
            tree.Select(f => (f.Path, f.Images, f.IsLibraryFolder)));
    }

    [Theory]
    [InlineData("2024-02-30")]
    [InlineData("24")]
    [InlineData("yesterday")]
    public void Parse_NotADate_SaysWhatADateIs(string date)
    {
        var error = Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, date, null, null));

        Assert.Equal($"'{date}' is not a date: give YYYY-MM-DD, YYYY-MM or YYYY.", error.Message);
    }

    [Fact]
    public void Parse_RangesTypesAndMistakes()
    {
        var filter = LibraryFilter.Parse(null, "2020-06", "2020-08", ["JPG", "heif,tif"]);

        Assert.Equal((new DateTime(2020, 6, 1), new DateTime(2020, 9, 1)), (filter.From, filter.To));
        Assert.Equal([ImageFormat.Jpeg, ImageFormat.Heif, ImageFormat.Tiff], filter.Formats!.Order());
        Assert.Contains("'bmpx' is not an image type; the types: jpeg, png", Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, null, null, ["bmpx"])).Message, StringComparison.Ordinal);
        Assert.Equal("The date range ends before it starts (from 2021 to 2020).", Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, "2021", "2020", null)).Message);
        Assert.True(LibraryFilter.Parse([], null, null, []).IsEmpty);
    }

    [Fact]
    public void Parse_Mistakes_CarryTheirCodeAndValues_TheCliNamesItsFlags()
    {
        var date = Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, null, "2024-13", null));
        var type = Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, null, null, ["mov"]));
        var range = Assert.Throws<ClipSearchException>(() => LibraryFilter.Parse(null, "2021", "2020", null));
        var sort = Assert.Throws<ClipSearchException>(() => LibrarySorts.Parse("newest"));

        Assert.Equal((ErrorCodes.FilterBadDate, "2024-13"), (date.Code, (string)date.Arguments.Single()));
        Assert.Equal((ErrorCodes.FilterBadType, "mov"), (type.Code, (string)type.Arguments[0]));
        Assert.Equal((ErrorCodes.FilterBadRange, "2021", "2020"), (range.Code, (string)range.Arguments[0], (string)range.Arguments[1]));
        Assert.Equal((ErrorCodes.SortUnknown, "'newest' is not an order: give relevance or date."), (sort.Code, sort.Message));
        Assert.Equal("--from and --to take YYYY-MM-DD, YYYY-MM or YYYY (got '2024-13').", Cli.CliErrors.Describe(date));
        Assert.StartsWith("--type: 'mov' is not an image type; the types: jpeg, png,", Cli.CliErrors.Describe(type), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, LibrarySort.Relevance)]
    [InlineData("", LibrarySort.Relevance)]
    [InlineData("Relevance", LibrarySort.Relevance)]
    [InlineData(" date ", LibrarySort.Date)]
    public void LibrarySorts_Parse_ReadsBothOrders(string? text, LibrarySort expected) => Assert.Equal(expected, LibrarySorts.Parse(text));

    private sealed record Indexed(long Id, string Path, PhotoMetadata Metadata, float[] Embedding);

    /// <summary>Eight fixture images in a, a2, b and b/deep, indexed, each given a date and a format through the store.</summary>
    private static async Task<List<Indexed>> IndexWithMetadataAsync(TestLibrary lib, TempFolder temp)
    {
        string[] folders = [temp.File("a"), temp.File("a"), temp.File("a"), temp.File("a2"), temp.File("a2"), temp.File("b"), temp.File("b", "deep"), temp.File("b", "deep")];
        for (var i = 0; i < _names.Length; i++)
        {
            Directory.CreateDirectory(folders[i]);
            File.Copy(Fixtures.Path("images", _names[i]), Path.Combine(folders[i], _names[i]));
        }

        await lib.Library.IndexAsync(Model, [temp.File("a"), temp.File("a2"), temp.File("b")]);
        DateTime[] dates = [new(2019, 5, 1, 10, 0, 0), new(2020, 6, 15, 0, 0, 0), new(2020, 6, 30, 23, 59, 59), new(2020, 7, 1, 0, 0, 0), new(2021, 1, 1, 0, 0, 0),
            new(2021, 12, 31, 23, 59, 59), new(2022, 3, 3, 3, 3, 3), new(2020, 6, 15, 23, 0, 0)];
        ImageFormat[] formats = [ImageFormat.Jpeg, ImageFormat.Heif, ImageFormat.Tiff, ImageFormat.Jpeg, ImageFormat.Png, ImageFormat.Jpeg, ImageFormat.Heif, ImageFormat.Jpeg];
        var paths = folders.Select((f, i) => Path.Combine(f, _names[i])).ToList();
        await using (var store = await lib.OpenStoreAsync())
        {
            await store.SetMetadataAsync([.. paths.Select((p, i) => (p, new PhotoMetadata(dates[i], null, TakenAtSource.Exif, 10, 10, formats[i], null, null, null, null)))]);
        }

        var result = new List<Indexed>();
        foreach (var image in await lib.Library.ListImagesAsync())
        {
            result.Add(new Indexed(image.Id, image.Path, image.Metadata!, (await lib.Library.GetEmbeddingAsync(image.Id))!));
        }

        Assert.Equal(_names.Length, result.Count);
        return result;
    }

    private static float Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
