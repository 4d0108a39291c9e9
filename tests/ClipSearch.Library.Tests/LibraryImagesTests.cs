using System.Text.RegularExpressions;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Library.Search;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>What the library hands out by id (issue 10): stable ids, stored embeddings, the image's bytes, "more like this".</summary>
public sealed partial class LibraryImagesTests
{
    private static readonly string[] _four = ["astronaut.png", "chelsea.png", "coffee.png", "horse.png"];

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Ids_AreTheSameAfterReopeningAndAfterAFileIsIndexedAgain(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var before = await lib.Library.ListImagesAsync();
        var horse = before.Single(i => i.Path == temp.File("photos", "horse.png"));

        File.SetLastWriteTimeUtc(horse.Path, DateTime.UtcNow.AddMinutes(1));   // changed: indexed again
        var again = await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        IReadOnlyList<Storage.IndexedImage> after;
        LibraryHit top;
        await using (var reopened = await ImageLibrary.OpenAsync(lib.Location))
        {
            after = await reopened.ListImagesAsync();
            top = (await reopened.SearchVectorAsync((await reopened.GetEmbeddingAsync(horse.Id))!, 1))[0];
        }

        Assert.Equal(4, before.Count);
        Assert.Equal(before.Count, before.Select(i => i.Id).Distinct().Count());
        Assert.Equal(1, again.Unchanged + again.Embedded + again.Reused - 3);   // the touched file only
        Assert.Equal(before.Select(i => (i.Id, i.Path)), after.Select(i => (i.Id, i.Path)));
        Assert.Equal((horse.Id, horse.Path), (top.Id, top.Path));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task ListImages_PagesByIdWithoutGapsOrRepeats(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        var first = await lib.Library.ListImagesAsync(0, 3);
        var second = await lib.Library.ListImagesAsync(first[^1].Id, 3);

        Assert.Equal(3, first.Count);
        var all = first.Concat(second).ToList();
        Assert.Equal(_four.Select(n => temp.File("photos", n)).Order(StringComparer.Ordinal), all.Select(i => i.Path).Order(StringComparer.Ordinal));
        Assert.Equal(all.Select(i => i.Id).Order(), all.Select(i => i.Id));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task EmbeddingById_IsWhatIndexingStored(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var coffee = (await lib.Library.ListImagesAsync()).Single(i => i.Path.EndsWith("coffee.png", StringComparison.Ordinal));
        await using var store = await lib.OpenStoreAsync();
        var stored = await store.LoadVectorsAsync(0);
        var row = Array.IndexOf(stored.Ids, coffee.ContentId);

        var embedding = await lib.Library.GetEmbeddingAsync(coffee.Id);

        Assert.Equal(stored.Vectors.AsSpan(row * stored.Dim, stored.Dim).ToArray(), embedding);
        var fresh = Model.EmbedImages([ImageLoader.LoadCrop(coffee.Path, Model.Preprocess, new())])[0];
        Assert.All(fresh.Zip(embedding!), p => Assert.Equal(p.First, p.Second, 1e-5f));
        Assert.Null(await lib.Library.GetEmbeddingAsync(coffee.Id + 1000));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task OpenImage_ReturnsTheFilesBytesAndTheTypeSniffedFromThem(string kind)
    {
        using var temp = ImageFolder("horse.png");
        File.Copy(temp.File("photos", "horse.png"), temp.File("photos", "png-named.jpg"));   // a PNG, whatever its name says
        ClipSearch.Tests.TestImages.WriteBmp(temp.File("photos", "big.bmp"), 40);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var images = (await lib.Library.ListImagesAsync()).ToDictionary(i => Path.GetFileName(i.Path), i => i.Id);
        var budget = new DecodeBudget(64 * DecodeBudget.BytesPerMegabyte);

        using (var misnamed = await lib.Library.OpenImageAsync(images["png-named.jpg"], new ImageLoadOptions { Budget = budget }))
        {
            Assert.Equal(File.ReadAllBytes(temp.File("photos", "png-named.jpg")), misnamed!.Bytes);
            Assert.Equal("image/png", misnamed.ContentType);
            Assert.Equal(misnamed.Bytes.Length, budget.InUse);   // held from the budget until disposed
        }

        using (var bmp = await lib.Library.OpenImageAsync(images["big.bmp"]))
        {
            Assert.Equal("image/bmp", bmp!.ContentType);
        }

        Assert.Equal(0, budget.InUse);
        Assert.Null(await lib.Library.OpenImageAsync(images.Values.Max() + 1000));
        File.Delete(temp.File("photos", "horse.png"));
        await Assert.ThrowsAsync<ImageLoadException>(() => lib.Library.OpenImageAsync(images["horse.png"]));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task SearchLike_UsesTheStoredEmbeddingWithoutTheFileAndLeavesItsContentOut(string kind)
    {
        using var temp = ImageFolder(_four);
        File.Copy(temp.File("photos", "horse.png"), temp.File("photos", "horse-copy.png"));
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var horse = (await lib.Library.ListImagesAsync()).Single(i => i.Path == temp.File("photos", "horse-copy.png"));   // its content's first path
        var byVector = await lib.Library.SearchVectorAsync((await lib.Library.GetEmbeddingAsync(horse.Id))!, 4);
        foreach (var file in Directory.GetFiles(temp.File("photos")))
        {
            File.Delete(file);   // nothing can be decoded: the stored embeddings are all there is
        }

        var like = await lib.Library.SearchLikeAsync(horse.Id, 3);

        Assert.Equal((horse.Id, horse.Path), (byVector[0].Id, byVector[0].Path));
        Assert.Equal([temp.File("photos", "horse.png")], byVector[0].Copies);
        Assert.Equal(byVector.Skip(1).Select(h => (h.Id, h.Path, h.Score)), like.Select(h => (h.Id, h.Path, h.Score)));
        Assert.DoesNotContain(like, h => h.Path.Contains("horse", StringComparison.Ordinal));
        var missing = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.SearchLikeAsync(horse.Id + 1000, 3));
        Assert.Contains($"no image with the id {horse.Id + 1000}", missing.Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task DescribeSearch_SaysExactBelowTheThresholdAndPgvectorBeforeItsRecallIsMeasured(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);

        var method = await lib.Library.DescribeSearchAsync();

        var expected = kind == Sqlite
            ? new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.BelowThreshold, HnswThreshold = VectorIndexOptions.DefaultHnswThreshold }
            : new SearchMethod(SearchMethodKind.Pgvector) { Candidates = PgvectorIndex.DefaultCandidatesPerResult * HnswRecallCheck.K, IterativeScans = true };   // pgvector 0.8 (CI's)
        Assert.Equal(expected, method);
    }

    [Fact]
    public void Source_HasNoTypeTestsOnStoresOrSearchImplementations_AndStorageDoesNotUseSearch()
    {
        var files = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal))
                && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .ToList();

        var typeTests = files.SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => TypeTest().IsMatch(x.line))
            .Select(x => $"{x.f}:{x.i + 1}: {x.line.Trim()}");
        var storageUsesSearch = files.Where(f => f.Contains("/ClipSearch.Library/Storage/", StringComparison.Ordinal)
            && File.ReadAllText(f).Contains("Library.Search", StringComparison.Ordinal));

        Assert.NotEmpty(files);
        Assert.Empty(typeTests);
        Assert.Empty(storageUsesSearch);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipSearch.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("ClipSearch.slnx not found above the test binaries.");
    }

    // `x is SqliteLibraryStore`, `is INativeVectorSearch native`, `is LibraryImageSearch`, … : a store, vector index or image search told apart by its type.
    [GeneratedRegex(@"\bis\s+(not\s+)?I?\w*(LibraryStore|VectorIndex|VectorSearch|ImageSearch|ImageLibrary|Uploads)\b")]
    private static partial Regex TypeTest();
}
