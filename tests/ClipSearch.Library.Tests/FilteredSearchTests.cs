using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// Filtered searches with the approximate index in use (the in-memory HNSW graph, pgvector's HNSW index with iterative
/// scans) equal a brute-force filtered search over the stored vectors, for selective and unselective filters of each
/// kind and combined, both sorts, on both stores; the in-memory catalogue of what filters read follows the library.
/// </summary>
public sealed class FilteredSearchTests
{
    private const int Dim = 16;
    private const int Rows = 2000;
    private static readonly ImageFormat[] _formats = [ImageFormat.Jpeg, ImageFormat.Heif, ImageFormat.Png, ImageFormat.Tiff];

    /// <summary>Selective and unselective filters of each kind, and combinations (the data: see <see cref="FillAsync"/>).</summary>
    private static readonly (string Name, LibraryFilter Filter, bool Selective)[] _filters =
    [
        ("folders 60%", LibraryFilter.Parse(["/lib/f0", "/lib/f1", "/lib/f2", "/lib/f3", "/lib/f4", "/lib/f5"], null, null, null), false),
        ("one subfolder 2%", LibraryFilter.Parse(["/lib/f3/s1"], null, null, null), true),
        ("dates 50%", LibraryFilter.Parse(null, "2015", "2019", null), false),
        ("one month 1%", LibraryFilter.Parse(null, "2021-03", "2021-03", null), true),
        ("jpeg 40%", LibraryFilter.Parse(null, null, null, ["jpeg"]), false),
        ("tiff 5%", LibraryFilter.Parse(null, null, null, ["tiff"]), true),
        ("folders + jpeg, heic 48%", LibraryFilter.Parse(["/lib/f0", "/lib/f1", "/lib/f2", "/lib/f3", "/lib/f4", "/lib/f5", "/lib/f6", "/lib/f7"], null, null, ["jpeg", "heic"]), false),
        ("folder + year + png 0.5%", LibraryFilter.Parse(["/lib/f2"], "2020", "2021", ["png"]), true),
        ("copies only", LibraryFilter.Parse(["/copies"], null, null, null), true),
    ];

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Search_ApproximateIndexInUse_EveryFilterEqualsABruteForceFilteredSearch(string kind)
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(kind, temp);
        await using var store = await lib.OpenStoreAsync();
        await FillAsync(store);
        var queries = RandomUnitVectors(8, Dim, seed: 21);
        var (search, approximate, exactly) = await SearcherAsync(store, temp, forceApproximate: true);
        using var searcher = search;

        foreach (var (name, filter, _) in _filters)
        {
            var before = (approximate(), exactly());
            var (found, wanted) = (0, 0);
            for (var q = 0; q < 8; q++)
            {
                var query = queries.AsSpan(q * Dim, Dim).ToArray();
                var expected = await BruteForceAsync(store, query, 10, filter);

                var hits = await searcher.SearchAsync(query, 10, filter);

                // The graph path is as good as the graph's measured recall (the check trusts it from 0.95 on), not
                // exact: each hit must be one that passes, scored exactly, best first; together they must find the
                // true top 10 at that recall. (A graph that misses often, or a hit that does not pass, fails.)
                var truth = expected.ToDictionary(e => e.ContentId, e => e.Score);
                var passing = await PassingContentsAsync(store, filter);
                Assert.Equal(Math.Min(10, passing.Count), hits.Count);
                Assert.All(hits, h => Assert.Contains(h.ContentId, passing));
                Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.ContentId), hits.Select(h => h.ContentId));
                Assert.All(hits.Where(h => truth.ContainsKey(h.ContentId)), h => Assert.Equal(truth[h.ContentId], h.Score, 1e-5f));
                found += hits.Count(h => truth.ContainsKey(h.ContentId));
                wanted += expected.Count;
            }

            Assert.True(found >= 0.95 * wanted, $"{name}: recall@10 {found} of {wanted}");

            // The unselective filters went through the approximate index (else this tests only the exact scan).
            if (name.Contains("60%", StringComparison.Ordinal) || name.Contains("50%", StringComparison.Ordinal) || name.Contains("40%", StringComparison.Ordinal))
            {
                Assert.Equal((before.Item1 + 8, before.Item2), (approximate(), exactly()));
            }
        }
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Search_DefaultLine_SelectiveFiltersScanExactlyAndEqualABruteForceSearch(string kind)
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(kind, temp);
        await using var store = await lib.OpenStoreAsync();
        await FillAsync(store);
        var query = RandomUnitVectors(1, Dim, seed: 22);
        var (search, approximate, exactly) = await SearcherAsync(store, temp, forceApproximate: false, exactBelow: 300);
        using var searcher = search;

        foreach (var (name, filter, selective) in _filters)
        {
            var before = (approximate(), exactly());
            var expected = await BruteForceAsync(store, query, 10, filter);

            var hits = await searcher.SearchAsync(query, 10, filter);

            // Selective filters are scanned exactly: the very same results. The others go through the graph: its recall.
            var common = expected.Select(e => e.ContentId).Intersect(hits.Select(h => h.ContentId)).Count();
            Assert.True(selective ? expected.Select(e => e.ContentId).SequenceEqual(hits.Select(h => h.ContentId)) : common >= 9, $"{name}: {common} of {expected.Count}");
            Assert.Equal(selective ? (before.Item1, before.Item2 + 1) : (before.Item1 + 1, before.Item2), (approximate(), exactly()));
        }
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task SearchVector_BothSortsWithTheApproximateIndex_AreTheBestPassingImagesInTheirOrder(string kind)
    {
        using var temp = new TempFolder();
        var options = new LibraryOptions { Index = new VectorIndexOptions { HnswThreshold = 1000, FilteredExactBelow = 0, HnswPath = temp.File("graph.hnsw") } };
        await using var lib = await OpenAsync(kind, temp, options);
        await using var store = await lib.OpenStoreAsync();
        await FillAsync(store);
        if (store is PostgresLibraryStore postgres)
        {
            using var pg = new PgvectorIndex(postgres);
            Assert.True((await pg.CheckRecallAsync()).Usable);   // kept in the database: the library trusts the index from its first search
        }

        var query = RandomUnitVectors(1, Dim, seed: 23);
        foreach (var (name, filter, _) in _filters)
        {
            var expected = await BruteForceAsync(store, query, 10, filter);

            var best = await lib.Library.SearchVectorAsync(query, 10, filter);
            var byDate = await lib.Library.SearchVectorAsync(query, 10, filter, LibrarySort.Date);

            Assert.Equal(expected.Count, best.Count);
            Assert.Equal(expected.Select(e => e.Score), best.Select(h => h.Score), (x, y) => Math.Abs(x - y) < 1e-5f);   // random vectors: no two alike
            Assert.Equal(best.OrderBy(h => h.Metadata is null).ThenByDescending(h => h.Metadata?.TakenAt).ThenByDescending(h => h.Score).Select(h => h.Path), byDate.Select(h => h.Path));
            Assert.All(best, h => Assert.True(filter.Passes(h.Path, h.Metadata), name));
        }

        Assert.Equal(kind == Sqlite ? SearchMethodKind.Hnsw : SearchMethodKind.Pgvector, (await lib.Library.DescribeSearchAsync()).Kind);
    }

    [Fact]
    public async Task InMemory_Catalogue_FollowsAddDeleteMoveAndRedate()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Sqlite, temp);
        await using var store = await lib.OpenStoreAsync();
        var vectors = await FillAsync(store);
        using var searcher = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, FilteredExactBelow = 0 });
        var inF0 = LibraryFilter.Parse(["/lib/f0"], null, null, null);
        var in1999 = LibraryFilter.Parse(null, "1999", "1999", null);
        var probe = RandomUnitVectors(1, Dim, seed: 24);
        Assert.Empty(await searcher.SearchAsync(probe, 10, in1999));
        var version = searcher.Catalogue!.Version;

        // Added: a new image in f0 exactly where the query points.
        await store.CommitAsync([new IndexedFile(new ScannedFile("/lib/f0/s0/new.jpg", 1, 1), "new", probe, null, Metadata(new DateTime(2020, 1, 1), ImageFormat.Jpeg))]);
        var added = await searcher.SearchAsync(probe, 10, inF0);
        Assert.Equal(1f, added[0].Score, 1e-5f);
        Assert.NotEqual(version, searcher.Catalogue!.Version);
        await AssertEqualsBruteForceAsync(inF0);

        // Deleted: gone from the results.
        await store.DeleteFilesAsync(["/lib/f0/s0/new.jpg"]);
        Assert.DoesNotContain(await searcher.SearchAsync(probe, 10, inF0), h => h.Score > 1 - 1e-5f);
        await AssertEqualsBruteForceAsync(inF0);

        // Moved to another folder (same content, relinked without its embedding, as the indexer does).
        var (moving, movingId) = (await store.ListImagesAsync(0, 5000)).Where(i => i.Path.StartsWith("/lib/f9/", StringComparison.Ordinal)).Select(i => (i.Path, i.ContentId)).First();
        var movingVector = vectors[movingId];
        Assert.DoesNotContain(await searcher.SearchAsync(movingVector, 10, inF0), h => h.ContentId == movingId);
        // Contents are numbered from 1 in the order FillAsync committed them: h{i} is content i + 1.
        await store.CommitAsync([new IndexedFile(new ScannedFile("/lib/f0/moved.jpg", 1, 1), $"h{movingId - 1}", null, null, Metadata(new DateTime(2016, 1, 1), ImageFormat.Jpeg))]);
        await store.DeleteFilesAsync([moving]);
        Assert.Equal(movingId, (await searcher.SearchAsync(movingVector, 10, inF0))[0].ContentId);
        await AssertEqualsBruteForceAsync(inF0);

        // Re-dated: into 1999, then found by that filter alone.
        await store.SetMetadataAsync([("/lib/f0/moved.jpg", Metadata(new DateTime(1999, 7, 1), ImageFormat.Jpeg))]);
        Assert.Equal([movingId], (await searcher.SearchAsync(movingVector, 10, in1999)).Select(h => h.ContentId));
        await AssertEqualsBruteForceAsync(LibraryFilter.Parse(null, "2016", "2016", null));

        async Task AssertEqualsBruteForceAsync(LibraryFilter filter)
        {
            foreach (var q in Enumerable.Range(0, 4))
            {
                var query = RandomUnitVectors(1, Dim, seed: 30 + q);
                var expected = await BruteForceAsync(store, query, 10, filter);
                Assert.Equal(expected.Select(e => e.ContentId), (await searcher.SearchAsync(query, 10, filter)).Select(h => h.ContentId));
            }
        }
    }

    [Fact]
    public void Catalogue_Selection_BoundsAndEstimatesWhatPasses()
    {
        FilterFields[] files =
        [
            new(1, "/a/x.jpg", 10, "jpeg"), new(2, "/a/b/y.jpg", 20, "heic"), new(3, "/a2/z.jpg", 30, "jpeg"), new(3, "/c/z-copy.jpg", null, null),
        ];
        var catalogue = FilterCatalogue.Build(7, files);

        var inA = catalogue.Select(new LibraryFilter { Folders = ["/a"] });
        var jpegInA = catalogue.Select(new LibraryFilter { Folders = ["/a", "/a/b"], Formats = new HashSet<ImageFormat> { ImageFormat.Jpeg } });
        var copy = catalogue.Select(new LibraryFilter { Folders = ["/c"] });

        Assert.Equal((2, 0.5), (inA.Bound, inA.Fraction));
        Assert.Equal([1L, 2L], inA.PassingContents());
        Assert.Equal([1L], jpegInA.PassingContents());
        Assert.Equal(0.5 * 0.5, jpegInA.Fraction);
        Assert.True(copy.Passes(3));
        Assert.False(copy.Passes(1));
        Assert.Equal([3L], copy.PassingContents());
    }

    /// <summary>
    /// <see cref="Rows"/> random vectors, one file each in /lib/fF/sS (10 folders × 5 subfolders), dated over
    /// 2015–2024, jpeg 40 %, heic 30 %, png 25 %, tiff 5 %; and 40 copies (the same contents) under /copies, undated.
    /// Returns each content's vector by id.
    /// </summary>
    private static async Task<Dictionary<long, float[]>> FillAsync(ILibraryStore store)
    {
        await store.SetModelAsync(new ModelIdentity("test", "fp32", Dim));
        var data = RandomUnitVectors(Rows, Dim, seed: 20);
        var random = new Random(20);
        var files = new List<IndexedFile>();
        for (var i = 0; i < Rows; i++)
        {
            var f = random.Next(100);
            var format = f < 40 ? 0 : f < 70 ? 1 : f < 95 ? 2 : 3;
            var taken = new DateTime(2015, 1, 1).AddDays(random.NextDouble() * 3652);
            files.Add(new IndexedFile(new ScannedFile($"/lib/f{random.Next(10)}/s{random.Next(5)}/{i}.{_formats[format].Name()}", 1, 1), $"h{i}",
                data.AsSpan(i * Dim, Dim).ToArray(), null, Metadata(taken, _formats[format])));
        }

        files.AddRange(Enumerable.Range(0, 40).Select(i => new IndexedFile(new ScannedFile($"/copies/{i}.jpg", 1, 1), $"h{i * 50}", null, null)));
        await store.CommitAsync(files);
        // Text queries for the recall check (an approximate index is trusted only when both kinds of recall were measured).
        var texts = RandomUnitVectors(50, Dim, seed: 21);
        await RecallTextQueries.SaveAsync(store, new ModelIdentity("test", "fp32", Dim), [.. Enumerable.Range(0, 50).Select(t => texts.AsSpan(t * Dim, Dim).ToArray())]);
        var stored = await store.LoadVectorsAsync(0);
        return Enumerable.Range(0, stored.Ids.Length).ToDictionary(i => stored.Ids[i], i => stored.Vectors.AsSpan(i * Dim, Dim).ToArray());
    }

    private static PhotoMetadata Metadata(DateTime taken, ImageFormat format) => new(taken, null, TakenAtSource.Exif, 10, 10, format, null, null, null, null);

    /// <summary>The search of <paramref name="store"/>'s kind, with the approximate index trusted, and its path counters.</summary>
    private static async Task<(IVectorIndex Index, Func<long> Approximate, Func<long> Exactly)> SearcherAsync(ILibraryStore store, TempFolder temp, bool forceApproximate, int exactBelow = 0)
    {
        var line = forceApproximate ? 0 : exactBelow;
        if (store is PostgresLibraryStore postgres)
        {
            var pg = new PgvectorIndex(postgres, new VectorIndexOptions { FilteredExactBelow = line });
            Assert.True((await pg.CheckRecallAsync()).Usable);
            Assert.True(await pg.SupportsIterativeScansAsync());
            Assert.Contains("clipsearch_contents_hnsw", await postgres.ExplainFilteredIterativeAsync(RandomUnitVectors(1, Dim, 1), 100, _filters[0].Filter), StringComparison.Ordinal);
            return (pg, () => pg.FilteredByIndex, () => pg.FilteredExactly);
        }

        var memory = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, FilteredExactBelow = line, HnswPath = temp.File("graph.hnsw") });
        await memory.RefreshAsync();
        Assert.True(memory.UsesHnsw);
        return (memory, () => memory.FilteredByGraph, () => memory.FilteredExactly);
    }

    /// <summary>The <paramref name="k"/> best contents with an image that passes, by scoring every stored vector.</summary>
    private static async Task<List<VectorHit>> BruteForceAsync(ILibraryStore store, float[] query, int k, LibraryFilter filter)
    {
        var stored = await store.LoadVectorsAsync(0);
        var passing = await PassingContentsAsync(store, filter);
        return [.. Enumerable.Range(0, stored.Ids.Length).Where(i => passing.Contains(stored.Ids[i]))
            .Select(i => new VectorHit(stored.Ids[i], System.Numerics.Tensors.TensorPrimitives.Dot(query, stored.Vectors.AsSpan(i * Dim, Dim))))
            .OrderByDescending(h => h.Score).ThenBy(h => h.ContentId).Take(k)];
    }

    /// <summary>The contents with an image that passes, from every image's path and metadata.</summary>
    private static async Task<HashSet<long>> PassingContentsAsync(ILibraryStore store, LibraryFilter filter)
    {
        var passing = new HashSet<long>();
        for (long after = 0; ;)
        {
            var page = await store.ListImagesAsync(after, 1000);
            if (page.Count == 0)
            {
                break;
            }

            passing.UnionWith(page.Where(i => filter.Passes(i.Path, i.Metadata)).Select(i => i.ContentId));
            after = page[^1].Id;
        }

        return passing;
    }
}
