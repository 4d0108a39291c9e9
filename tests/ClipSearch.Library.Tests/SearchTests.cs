using System.Numerics.Tensors;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using ClipSearch.Library.Storage.Sqlite;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>Exact and HNSW search over random unit vectors, float16 rows, the saved graph.</summary>
public sealed class SearchTests
{
    private const int Dim = 32;
    private const int Rows = 3000;

    [Fact]
    public void ExactIndex_Search_ReturnsTheTrueTopKInOrder()
    {
        var data = RandomUnitVectors(Rows, Dim, seed: 1);
        var index = new ExactIndex(Dim) { Threads = 2 };
        index.Add([.. Enumerable.Range(1, Rows).Select(i => (long)i)], data);
        var query = RandomUnitVectors(1, Dim, seed: 2);

        var hits = index.Search(query, 10);

        var expected = Enumerable.Range(0, Rows).Select(r => (Id: r + 1L, Score: TensorPrimitives.Dot(query, data.AsSpan(r * Dim, Dim))))
            .OrderByDescending(x => x.Score).Take(10).ToList();
        Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
        Assert.Equal(expected[0].Score, hits[0].Score, 1e-6f);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(63)]
    [InlineData(512)]
    [InlineData(515)]
    public void ScanKernel_Dots_EqualADoublePrecisionSumWhateverTheLength(int dim)
    {
        // Every lane width's loop and the scalar tail: lengths below, at and past 4, 8 and 16 floats.
        const int Count = 9;
        var rows = RandomUnitVectors(Count, dim, seed: dim);
        var query = RandomUnitVectors(1, dim, seed: dim + 1);
        var scores = new float[Count];

        ScanKernel.Dots(query, rows, scores);

        for (var r = 0; r < Count; r++)
        {
            var expected = 0.0;
            for (var i = 0; i < dim; i++)
            {
                expected += (double)query[i] * rows[(r * dim) + i];
            }

            Assert.Equal(expected, scores[r], 1e-5);
        }
    }

    [Fact]
    public void ExactIndex_SearchAcrossThreads_EqualsBruteForceWithTiesByRow()
    {
        // 20,000 rows: 4 parts searched apart and merged. Every row appears three times (rows r, r + n, r + 2n), so
        // each score is tied and the lower row must come first, across parts too.
        const int Distinct = 6667;
        var distinct = RandomUnitVectors(Distinct, Dim, seed: 11);
        var data = new float[3 * Distinct * Dim];
        for (var copy = 0; copy < 3; copy++)
        {
            distinct.CopyTo(data.AsSpan(copy * Distinct * Dim));
        }

        var rows = 3 * Distinct;
        var index = new ExactIndex(Dim) { Threads = 4 };
        index.Add([.. Enumerable.Range(1, rows).Select(i => (long)i)], data);
        var query = RandomUnitVectors(1, Dim, seed: 12);
        var scores = Enumerable.Range(0, rows).Select(r => (Id: r + 1L, Score: index.Score(query, r))).ToList();

        foreach (var k in new[] { 1, 10, 31, rows + 5 })
        {
            var hits = index.Search(query, k);

            var expected = scores.OrderByDescending(x => x.Score).ThenBy(x => x.Id).Take(k).ToList();
            Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
            Assert.Equal(expected.Select(e => e.Score), hits.Select(h => h.Score));
        }
    }

    [Fact]
    public void ExactIndex_HalfPrecision_KeepsTheTopResultAndScoresWithin2e3()
    {
        var data = RandomUnitVectors(Rows, Dim, seed: 3);
        var ids = Enumerable.Range(1, Rows).Select(i => (long)i).ToArray();
        var single = new ExactIndex(Dim);
        var half = new ExactIndex(Dim, halfPrecision: true);
        single.Add(ids, data);
        half.Add(ids, data);

        for (var q = 0; q < 20; q++)
        {
            var query = data.AsSpan(q * 97 * Dim, Dim).ToArray();
            var a = single.Search(query, 5);
            var b = half.Search(query, 5);
            Assert.Equal(a[0].Id, b[0].Id);
            Assert.All(a.Zip(b), p => Assert.Equal(p.First.Score, p.Second.Score, 2e-3f));
        }

        Assert.Equal(single.MemoryBytes - (ids.Length * 8L), 2 * (half.MemoryBytes - (ids.Length * 8L)));
    }

    [Fact]
    public async Task Searcher_HnswAboveThreshold_HasRecallAtTenOfAtLeast095AgainstExact()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, Rows);
        using var exact = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 0 });
        using var hnsw = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000 });
        await exact.RefreshAsync();
        await hnsw.RefreshAsync();
        var queries = RandomUnitVectors(50, Dim, seed: 5);

        var found = 0;
        for (var q = 0; q < 50; q++)
        {
            var query = queries.AsSpan(q * Dim, Dim).ToArray();
            var truth = exact.Search(query, 10).Select(h => h.ContentId).ToHashSet();
            found += hnsw.Search(query, 10).Count(h => truth.Contains(h.ContentId));
        }

        Assert.True(hnsw.UsesHnsw);
        Assert.False(exact.UsesHnsw);
        Assert.InRange(found / 500.0, 0.95, 1.0);
        Assert.InRange(hnsw.HnswRecall!.Recall, 0.95, 1.0);
        Assert.Equal(Rows, hnsw.HnswRecall.AtCount);
        Assert.Null(exact.HnswRecall);
    }

    [Fact]
    public async Task Searcher_GraphBelowTheMinimumRecall_IsNotUsedAndSearchesStayExact()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, Rows);
        using var exact = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 0 });
        using var strict = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, MinimumRecall = 1.01 });
        await exact.RefreshAsync();
        await strict.RefreshAsync();
        var queries = RandomUnitVectors(20, Dim, seed: 6);

        Assert.False(strict.UsesHnsw);
        Assert.Equal(0, strict.HnswRecall!.CandidatesPerResult);
        Assert.InRange(strict.HnswRecall.Recall, 0.5, 1.0);   // measured with the most candidates tried
        Assert.Equal(SearchMethodKind.Exact, (await strict.DescribeAsync()).Kind);
        Assert.Equal(ExactSearchReason.LowRecall, (await strict.DescribeAsync()).ExactBecause);
        for (var q = 0; q < 20; q++)
        {
            var query = queries.AsSpan(q * Dim, Dim).ToArray();
            Assert.Equal(exact.Search(query, 10), strict.Search(query, 10));
        }
    }

    [SkippableFact]
    public async Task PostgresRecallCheck_IsRecordedAndAnUnreachableTargetMakesSearchesExact()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Postgres, temp);
        await using var store = await PostgresLibraryStore.OpenAsync(lib.Location);
        await store.SetModelAsync(new ModelIdentity("test", "fp32", Dim));
        var data = RandomUnitVectors(2000, Dim, seed: 4);
        await store.CommitAsync([.. Enumerable.Range(0, 2000).Select(i => new IndexedFile(new ScannedFile($"/x/{i}.png", 1, 1), $"h{i}", data.AsSpan(i * Dim, Dim).ToArray(), null))]);
        var stored = await store.LoadVectorsAsync(0);
        var exact = new ExactIndex(Dim);
        exact.Add(stored.Ids, stored.Vectors);
        var queries = RandomUnitVectors(20, Dim, seed: 6);

        await RecallTextQueries.SaveAsync(store, (await store.GetModelAsync())!, TextQueries());
        using var index = new PgvectorIndex(store);
        var reachable = await index.CheckRecallAsync();
        HnswRecall? recorded;
        await using (var reopened = await PostgresLibraryStore.OpenAsync(lib.Location))
        {
            using var reopenedIndex = new PgvectorIndex(reopened);
            recorded = await reopenedIndex.GetRecallAsync();
        }

        using var strictIndex = new PgvectorIndex(store, new VectorIndexOptions { MinimumRecall = 1.01 });
        var strict = await strictIndex.CheckRecallAsync();

        Assert.True(reachable.Usable);
        Assert.InRange(reachable.Recall, 0.95, 1.0);
        Assert.InRange(reachable.TextRecall!.Value, 0.95, 1.0);
        Assert.Equal(50, reachable.TextQueries);
        Assert.Contains(reachable.CandidatesPerResult, index.CandidateSteps);
        Assert.Equal(2000, reachable.AtCount);
        Assert.Equal(reachable, recorded);
        Assert.False(strict.Usable);
        for (var q = 0; q < 20; q++)
        {
            var query = queries.AsSpan(q * Dim, Dim).ToArray();
            Assert.Equal(exact.Search(query, 10).Select(h => h.Id), (await strictIndex.SearchAsync(query, 10)).Select(h => h.ContentId));
        }
    }

    [Fact]
    public async Task Searcher_SearchesWhileTheGraphGrowsAndIsRebuilt_AlwaysAnswerAndEndUpToDate()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, 1500);
        using var searcher = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000 });
        await searcher.RefreshAsync();
        var extra = RandomUnitVectors(200, Dim, seed: 11);
        using var stop = new CancellationTokenSource();
        var searches = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(() =>
        {
            var query = extra.AsSpan(0, Dim).ToArray();
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(10, searcher.Search(query, 10).Count);
                searches++;
                started.TrySetResult();
            }
        });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        for (var round = 0; round < 10; round++)
        {
            // New rows extend the live graph; deleting a file bumps the generation, which rebuilds it.
            var batch = Enumerable.Range(round * 20, 20)
                .Select(i => new IndexedFile(new ScannedFile($"/y/{i}.png", 1, 1), $"y{i}", extra.AsSpan(i * Dim, Dim).ToArray(), null)).ToList();
            await store.CommitAsync(batch);
            await searcher.RefreshAsync();
            await store.DeleteFilesAsync([$"/x/{round}.png"]);
            await searcher.RefreshAsync();
        }

        await stop.CancelAsync();
        await reader;
        var last = extra.AsSpan(199 * Dim, Dim).ToArray();

        Assert.True(searches > 0);
        Assert.Equal(1500 - 10 + 200, searcher.Exact!.Count);
        Assert.True(searcher.UsesHnsw);
        Assert.Equal(1f, searcher.Search(last, 1)[0].Score, 1e-5f);
    }

    [Fact]
    public async Task Searcher_SavedGraph_IsReloadedAndKeptUpToDate()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, 1500);
        var path = temp.File("library.db.hnsw");
        HnswRecall measured;
        using (var first = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, HnswPath = path }))
        {
            await first.RefreshAsync();
            first.SaveHnsw();
            measured = first.HnswRecall!;
        }

        var extra = RandomUnitVectors(1, Dim, seed: 9);
        await store.CommitAsync([new IndexedFile(new ScannedFile("/x/new.png", 1, 1), "new-hash", extra, null)]);
        using var second = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, HnswPath = path });
        await second.RefreshAsync();

        var top = second.Search(extra, 1)[0];
        Assert.True(File.Exists(path + ".json"));
        Assert.True(second.UsesHnsw);
        Assert.Equal(1f, top.Score, 1e-5f);
        Assert.Equal(1501, second.Exact!.Count);
        Assert.Equal(measured, second.HnswRecall);   // saved with the graph, not measured again for one more row
    }

    [Fact]
    public void QueryParser_CombinedQuery_GivesWeightedTerms()
    {
        var terms = QueryParser.Parse("\"cat\" + \"snow\" - \"dog\"");
        Assert.Equal([("cat", 1f), ("snow", 1f), ("dog", -1f)], terms.Select(t => (t.Text, t.Weight)));

        Assert.Equal([("cat", 2f), ("a red t-shirt", 1f), ("photo of a dog", -0.5f)],
            QueryParser.Parse("2:cat + a red t-shirt - 0.5:\"photo of a dog\"").Select(t => (t.Text, t.Weight)));
        Assert.Equal([("a photo of a cat", 1f)], QueryParser.Parse("a photo of a cat").Select(t => (t.Text, t.Weight)));
    }

    [Fact]
    public void QueryParser_ImageFile_IsAnImageTerm()
    {
        var path = Fixtures.Path("images", "horse.png");

        var terms = QueryParser.Parse($"{path} - \"brown\"");

        Assert.Equal([(path, true, 1f), ("brown", false, -1f)], terms.Select(t => (t.Text, t.IsImage, t.Weight)));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("\"cat", "not closed")]
    [InlineData("cat + ", "no term")]
    [InlineData("cat + - dog", "two operators")]
    public void QueryParser_BadQuery_IsAClearError(string query, string expected)
    {
        var e = Assert.Throws<ClipSearchException>(() => QueryParser.Parse(query));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QueryEmbedder_Arithmetic_IsTheNormalisedWeightedSum()
    {
        var model = Model;
        var vector = QueryEmbedder.Embed(model, QueryParser.Parse("\"cat\" + 2:snow - \"dog\""), new());

        var (cat, snow, dog) = (model.EmbedText("cat"), model.EmbedText("snow"), model.EmbedText("dog"));
        var expected = new float[model.EmbeddingDim];
        for (var i = 0; i < expected.Length; i++)
        {
            expected[i] = cat[i] + (2 * snow[i]) - dog[i];
        }

        TensorPrimitives.Divide(expected, TensorPrimitives.Norm(expected), expected);
        Assert.All(vector.Zip(expected), p => Assert.Equal(p.Second, p.First, 1e-5f));
    }

    [Fact]
    public void QueryEmbedder_TermsThatCancel_AreAClearError()
    {
        var e = Assert.Throws<ClipSearchException>(() => QueryEmbedder.Embed(Model, QueryParser.Parse("cat - cat"), new()));

        Assert.Contains("cancel out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LibraryLocation_PostgresUrl_BecomesAConnectionString()
    {
        var s = LibraryLocation.FromUrl("postgres://ann:p%40ss@db.example:6543/photos?sslmode=disable");

        Assert.True(LibraryLocation.IsPostgres("postgres://db/x"));
        Assert.True(LibraryLocation.IsPostgres("Host=db;Database=x"));
        Assert.False(LibraryLocation.IsPostgres("/home/ann/library.db"));
        Assert.Contains("Host=db.example", s, StringComparison.Ordinal);
        Assert.Contains("Port=6543", s, StringComparison.Ordinal);
        Assert.Contains("Database=photos", s, StringComparison.Ordinal);
        Assert.Contains("Username=ann", s, StringComparison.Ordinal);
        Assert.Contains("Password=p@ss", s, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Searcher_TextQueries_AreMeasuredBesideImageQueriesAndSavedWithTheGraph()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, Rows);
        var path = temp.File("library.db.hnsw");
        using var hnsw = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000, HnswPath = path });
        await hnsw.RefreshAsync();
        hnsw.SaveHnsw();
        var texts = (await RecallTextQueries.LoadAsync(store))!;

        // The text recall by hand: each stored text query searched through the graph (with the chosen candidates), against exact.
        var recall = hnsw.HnswRecall!;
        var found = 0;
        foreach (var query in texts)
        {
            var truth = hnsw.Exact!.Search(query, 10).Select(h => h.Id).ToHashSet();
            found += hnsw.Search(query, 10).Count(h => truth.Contains(h.ContentId));   // through the graph, as searches go
        }

        var method = await hnsw.DescribeAsync();
        Assert.True(hnsw.UsesHnsw);
        Assert.Equal(50, texts.Count);
        Assert.Equal(50, recall.TextQueries);
        Assert.Equal(found / 500.0, recall.TextRecall);
        Assert.InRange(recall.TextRecall!.Value, 0.95, 1.0);
        Assert.Equal((SearchMethodKind.Hnsw, recall.Recall, recall.TextRecall, 50), (method.Kind, method.Recall!.Value, method.TextRecall, method.TextQueries!.Value));
        Assert.Equal(recall, HnswIndex.ReadCoverage(path)!.Recall);   // saved with the graph
    }

    [Fact]
    public async Task Searcher_GraphWhoseTextRecallIsLow_IsNotTrustedAndSearchesStayExact()
    {
        // Adversarial text queries: the images span dimensions 0-15; each text query lies almost wholly in 16-31 (a
        // gap far wider than CLIP's), with a faint part in 0-15 that decides its true neighbours. The graph's int8
        // vectors lose that part, so it cannot tell the images apart from there; image queries stay easy.
        const int Count = 8000;
        using var temp = new TempFolder();
        await using var store = SqliteLibraryStore.Open(temp.File("library.db"));
        var model = new ModelIdentity("test", "fp32", Dim);
        await store.SetModelAsync(model);
        var images = RandomUnitVectors(Count, Dim / 2, seed: 21);
        await store.CommitAsync([.. Enumerable.Range(0, Count).Select(i =>
            new IndexedFile(new ScannedFile($"/x/{i}.png", 1, 1), $"h{i}", [.. images.AsSpan(i * (Dim / 2), Dim / 2), .. new float[Dim / 2]], null))]);
        var faint = RandomUnitVectors(50, Dim / 2, seed: 22);
        var far = RandomUnitVectors(50, Dim / 2, seed: 23);
        var texts = Enumerable.Range(0, 50).Select(t =>
        {
            float[] query = [.. faint.AsSpan(t * (Dim / 2), Dim / 2), .. far.AsSpan(t * (Dim / 2), Dim / 2)];
            TensorPrimitives.Multiply(query.AsSpan(0, Dim / 2), 0.01f, query.AsSpan(0, Dim / 2));
            TensorPrimitives.Divide(query, TensorPrimitives.Norm(query), query);
            return query;
        }).ToList();
        await RecallTextQueries.SaveAsync(store, model, texts);
        using var exact = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 0 });
        using var graph = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000 });
        await exact.RefreshAsync();
        await graph.RefreshAsync();

        var recall = graph.HnswRecall!;
        var method = await graph.DescribeAsync();
        Assert.False(graph.UsesHnsw);
        Assert.Equal(0, recall.CandidatesPerResult);
        Assert.InRange(recall.Recall, 0.95, 1.0);   // image queries alone would have trusted it
        Assert.InRange(recall.TextRecall!.Value, 0.0, 0.9);
        Assert.Equal((SearchMethodKind.Exact, ExactSearchReason.LowRecall, recall.TextRecall), (method.Kind, method.ExactBecause, method.TextRecall));
        foreach (var query in texts.Take(10))
        {
            Assert.Equal(exact.Search(query, 10), graph.Search(query, 10));
        }
    }

    [Fact]
    public async Task Searcher_WithoutTextQueries_SaysTextRecallUnmeasuredAndStaysExactUntilTheyAreStored()
    {
        using var temp = new TempFolder();
        await using var store = await FilledStoreAsync(temp, Rows, textQueries: false);
        using var hnsw = new InMemoryVectorIndex(store, new VectorIndexOptions { HnswThreshold = 1000 });
        await hnsw.RefreshAsync();
        var unmeasured = hnsw.HnswRecall!;
        var before = await hnsw.DescribeAsync();
        var usedBefore = hnsw.UsesHnsw;

        await RecallTextQueries.SaveAsync(store, (await store.GetModelAsync())!, TextQueries());
        await hnsw.RefreshAsync();   // measured again, now with text queries

        Assert.False(usedBefore);
        Assert.Null(unmeasured.TextRecall);
        Assert.True(unmeasured.TextUnmeasured);
        Assert.InRange(unmeasured.Recall, 0.95, 1.0);
        Assert.Equal((SearchMethodKind.Exact, ExactSearchReason.TextRecallUnmeasured, null), (before.Kind, before.ExactBecause, before.TextRecall));
        Assert.True(hnsw.UsesHnsw);
        Assert.InRange(hnsw.HnswRecall!.TextRecall!.Value, 0.95, 1.0);
    }

    [SkippableFact]
    public async Task PostgresRecallCheck_WithoutTextQueries_SaysTextRecallUnmeasuredAndSearchesExactly()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Postgres, temp);
        await using var store = await PostgresLibraryStore.OpenAsync(lib.Location);
        await store.SetModelAsync(new ModelIdentity("test", "fp32", Dim));
        var data = RandomUnitVectors(500, Dim, seed: 4);
        await store.CommitAsync([.. Enumerable.Range(0, 500).Select(i => new IndexedFile(new ScannedFile($"/x/{i}.png", 1, 1), $"h{i}", data.AsSpan(i * Dim, Dim).ToArray(), null))]);
        var exact = new ExactIndex(Dim);
        var stored = await store.LoadVectorsAsync(0);
        exact.Add(stored.Ids, stored.Vectors);
        using var index = new PgvectorIndex(store);

        var recall = await index.CheckRecallAsync();
        var method = await index.DescribeAsync();
        var query = RandomUnitVectors(1, Dim, seed: 7);

        Assert.True(recall.TextUnmeasured);
        Assert.False(recall.Usable);
        Assert.Equal((SearchMethodKind.Exact, ExactSearchReason.TextRecallUnmeasured, recall.Recall), (method.Kind, method.ExactBecause, method.Recall!.Value));
        Assert.Equal(exact.Search(query, 10).Select(h => h.Id), (await index.SearchAsync(query, 10)).Select(h => h.ContentId));
    }

    [Fact]
    public async Task RecallTextQueries_AreEmbeddedOnceByTheModelAndDroppedWithIt()
    {
        using var temp = new TempFolder();
        await using var store = SqliteLibraryStore.Open(temp.File("library.db"));
        var identity = ImageLibrary.IdentityOf(Model);
        await store.SetModelAsync(identity);

        var embedded = (await RecallTextQueries.EnsureAsync(store, Model))!;
        var loaded = (await RecallTextQueries.LoadAsync(store))!;
        await store.SetModelAsync(identity with { Hash = "another" });
        var afterAnotherModel = await RecallTextQueries.LoadAsync(store);

        Assert.Equal(50, RecallTextQueries.Prompts.Count);
        Assert.Equal("a photo of a apple.", RecallTextQueries.Prompts[0]);
        Assert.Equal(50, RecallTextQueries.Prompts.Distinct().Count());
        Assert.Equal(Model.EmbedTexts(RecallTextQueries.Prompts), embedded);
        Assert.Equal(embedded, loaded);
        Assert.Null(afterAnotherModel);
    }

    private static float[][] TextQueries() => [.. Enumerable.Range(0, 50).Select(t => RandomUnitVectors(50, Dim, seed: 12).AsSpan(t * Dim, Dim).ToArray())];

    private static async Task<SqliteLibraryStore> FilledStoreAsync(TempFolder temp, int rows, bool textQueries = true)
    {
        var store = SqliteLibraryStore.Open(temp.File("library.db"));
        var model = new ModelIdentity("test", "fp32", Dim);
        await store.SetModelAsync(model);
        var data = RandomUnitVectors(rows, Dim, seed: 4);
        var batch = Enumerable.Range(0, rows)
            .Select(i => new IndexedFile(new ScannedFile($"/x/{i}.png", 1, 1), $"h{i}", data.AsSpan(i * Dim, Dim).ToArray(), null)).ToList();
        await store.CommitAsync(batch);
        if (textQueries)
        {
            await RecallTextQueries.SaveAsync(store, model, TextQueries());   // random directions, like the images here
        }

        return store;
    }
}
