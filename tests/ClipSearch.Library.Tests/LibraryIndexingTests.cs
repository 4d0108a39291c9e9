using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
using static ClipSearch.Library.Tests.TestLibraries;
using static ClipSearch.Tests.TestImages;

namespace ClipSearch.Library.Tests;

/// <summary>Indexing behaviour, the same against SQLite and PostgreSQL (a real server, started by ./test).</summary>
public sealed class LibraryIndexingTests
{
    private static readonly string[] _four = ["astronaut.png", "chelsea.png", "coffee.png", "horse.png"];

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_NewFolder_EmbedsImagesAndRecordsUnreadableFilesWithReasons(string kind)
    {
        using var temp = ImageFolder(_four);
        File.WriteAllText(temp.File("photos", "notes.jpg"), "this is text, not a JPEG");
        File.WriteAllBytes(temp.File("photos", "broken.png"), File.ReadAllBytes(Fixtures.Path("images", "camera.png"))[..2000]);
        await using var lib = await OpenAsync(kind, temp);

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((6, 4, 0, 2, 0), (result.Scanned, result.Embedded, result.Reused, result.Failed, result.Removed));
        var errors = await lib.Library.GetErrorsAsync();
        Assert.Equal([temp.File("photos", "broken.png"), temp.File("photos", "notes.jpg")], errors.Select(e => e.Path));
        Assert.Contains("truncated or corrupt", errors[0].Error, StringComparison.Ordinal);
        Assert.Contains("not an image", errors[1].Error, StringComparison.Ordinal);
        var stats = await lib.Library.GetStatsAsync();
        Assert.Equal((6L, 4L, 2L, 4L), (stats.Files, stats.Indexed, stats.Failed, stats.Contents));
        Assert.Equal([temp.File("photos")], stats.Folders);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_UnchangedFolder_DoesNoInferenceAndNoWrites(string kind)
    {
        using var temp = ImageFolder(_four);
        File.WriteAllText(temp.File("photos", "notes.jpg"), "not an image");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        var again = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((5, 5, 0, 0, 0, 0), (again.Scanned, again.Unchanged, again.Embedded, again.Reused, again.Failed, again.Removed));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_ChangedFile_EmbedsOnlyItAndDropsItsOldEmbedding(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var changed = temp.File("photos", "horse.png");
        File.Copy(Fixtures.Path("images", "page.png"), changed, overwrite: true);
        File.SetLastWriteTimeUtc(changed, DateTime.UtcNow.AddMinutes(1));

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((3, 1, 0, 0), (result.Unchanged, result.Embedded, result.Reused, result.Removed));
        Assert.Equal(4L, (await lib.Library.GetStatsAsync()).Contents);
        var page = Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(changed, Model.Preprocess, new())])[0];
        var top = (await lib.Library.SearchVectorAsync(page, 1))[0];
        Assert.Equal(changed, top.Path);
        Assert.Equal(1f, top.Score, 1e-4f);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_DeletedFile_IsDroppedWithItsEmbedding(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        File.Delete(temp.File("photos", "coffee.png"));

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((3, 0, 1), (result.Unchanged, result.Embedded, result.Removed));
        var stats = await lib.Library.GetStatsAsync();
        Assert.Equal((3L, 3L), (stats.Files, stats.Contents));
        var all = await lib.Library.SearchVectorAsync(Unit(Model.EmbeddingDim), 10);
        Assert.DoesNotContain(all, r => r.Path.EndsWith("coffee.png", StringComparison.Ordinal));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_RenamedAndMovedFiles_AreRecognisedWithoutEmbedding(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        Directory.CreateDirectory(temp.File("photos", "2024"));
        File.Move(temp.File("photos", "horse.png"), temp.File("photos", "2024", "moved-horse.png"));
        File.Move(temp.File("photos", "chelsea.png"), temp.File("photos", "cat.png"));

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((0, 2, 2), (result.Embedded, result.Reused, result.Removed));
        var stats = await lib.Library.GetStatsAsync();
        Assert.Equal((4L, 4L), (stats.Files, stats.Contents));
        var paths = (await lib.Library.SearchVectorAsync(Unit(Model.EmbeddingDim), 10)).Select(r => r.Path).Order(StringComparer.Ordinal);
        Assert.Equal([temp.File("photos", "2024", "moved-horse.png"), temp.File("photos", "astronaut.png"), temp.File("photos", "cat.png"), temp.File("photos", "coffee.png")], paths);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_ExactCopies_ShareOneEmbeddingAndFormADuplicateGroup(string kind)
    {
        using var temp = ImageFolder(_four);
        File.Copy(temp.File("photos", "horse.png"), temp.File("photos", "horse-copy.png"));
        File.Copy(temp.File("photos", "horse.png"), temp.File("photos", "horse-copy2.png"));
        await using var lib = await OpenAsync(kind, temp);

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.Equal((4, 2), (result.Embedded, result.Reused));
        Assert.Equal(4L, (await lib.Library.GetStatsAsync()).Contents);
        var groups = await lib.Library.FindDuplicatesAsync(0.9999f);
        var horses = Assert.Single(groups);
        Assert.Equal([temp.File("photos", "horse-copy.png"), temp.File("photos", "horse-copy2.png"), temp.File("photos", "horse.png")], horses.Paths);
        var hit = (await lib.Library.SearchVectorAsync(Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(temp.File("photos", "horse.png"), Model.Preprocess, new())])[0], 1))[0];
        Assert.Equal(2, hit.Copies.Count);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task IndexAndSearch_AnotherModel_AreRefusedUnlessReembedding(string kind)
    {
        using var temp = ImageFolder(_four);
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        using var quantized = ClipModel.Load(Fixtures.Path("tiny-clip"), new ModelOptions { Variant = ModelVariant.Quantized, Threads = 1 });

        var index = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(quantized, [temp.File("photos")]));
        var search = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.SearchAsync(quantized, "a cat"));
        var reembedded = await lib.Library.IndexAsync(quantized, [temp.File("photos")], reembed: true);

        Assert.Contains("another model", index.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.LibraryModelMismatch, index.Code);
        Assert.Equal(lib.Library.Location, index.Arguments[0]);
        Assert.StartsWith("fp32 ", (string)index.Arguments[1], StringComparison.Ordinal);
        Assert.StartsWith("quantized ", (string)index.Arguments[2], StringComparison.Ordinal);
        Assert.DoesNotContain("--reembed", index.Message, StringComparison.Ordinal);
        Assert.Contains("--reembed", Cli.CliErrors.Describe(index), StringComparison.Ordinal);
        Assert.Contains("another model", search.Message, StringComparison.Ordinal);
        Assert.Equal(4, reembedded.Embedded);
        await using var store = await lib.OpenStoreAsync();
        Assert.Equal("quantized", (await store.GetModelAsync())!.Variant);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Search_WhileIndexing_SeesEachCommittedBatch(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 24; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), i);
        }

        await using var writer = await OpenAsync(kind, temp);
        await using var reader = await ImageLibrary.OpenAsync(writer.Location);
        var seen = new List<(int Embedded, int Found)>();
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == IndexPhase.Indexing)
            {
                // A second library on the same database, as another process would be, reads while the writer commits.
                var found = reader.SearchVectorAsync(Unit(Model.EmbeddingDim), 100).GetAwaiter().GetResult().Count;
                seen.Add((p.Embedded, found));
            }
        });

        await writer.Library.IndexAsync(Model, [temp.File("photos")], new IndexerOptions { CommitBatchSize = 4 }, progress: progress);

        Assert.Equal(6, seen.Count);
        Assert.All(seen, s => Assert.Equal(s.Embedded, s.Found));
        Assert.Equal(24, (await reader.SearchVectorAsync(Unit(Model.EmbeddingDim), 100)).Count);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_Cancelled_KeepsFinishedBatchesAndResumes(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 20; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 100 + i);
        }

        await using var lib = await OpenAsync(kind, temp);
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == IndexPhase.Indexing && p.Done >= 8)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            lib.Library.IndexAsync(Model, [temp.File("photos")], new IndexerOptions { CommitBatchSize = 4 }, progress: progress, cancellationToken: cancel.Token));
        var kept = (await lib.Library.GetStatsAsync()).Indexed;
        var resumed = await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        Assert.InRange(kept, 8, 19);
        Assert.Equal(20 - kept, resumed.Embedded);
        Assert.Equal(20L, (await lib.Library.GetStatsAsync()).Contents);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_CancelledWhileReplacingChangedFiles_LeavesNoEmbeddingWithoutAFile(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 20; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 400 + i);
        }

        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        for (var i = 0; i < 20; i++)
        {
            var path = temp.File("photos", $"img{i:D2}.bmp");
            WriteBmp(path, 500 + i);   // every file changes content
            File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(10));
        }

        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == IndexPhase.Indexing && p.Done >= 8)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            lib.Library.IndexAsync(Model, [temp.File("photos")], new IndexerOptions { CommitBatchSize = 4 }, progress: progress, cancellationToken: cancel.Token));
        var stats = await lib.Library.GetStatsAsync();

        Assert.Equal(20L, stats.Files);
        Assert.Equal(20L, stats.Contents);   // each replaced content went with its file's new one
    }

    [SkippableFact]
    public async Task Index_TwoIndexersOnOnePostgresDatabase_ShareTheWorkWithoutDuplicates()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 40; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 200 + i);
        }

        await using var first = await OpenAsync(Postgres, temp);
        await using var second = await ImageLibrary.OpenAsync(first.Location);
        await first.Library.CheckModelAsync(Model);
        var options = new IndexerOptions { ChunkSize = 4, CommitBatchSize = 4 };

        var results = await Task.WhenAll(
            Task.Run(() => first.Library.IndexAsync(Model, [temp.File("photos")], options)),
            Task.Run(() => second.IndexAsync(Model, [temp.File("photos")], options)));

        Assert.Equal(40, results.Sum(r => r.Embedded));
        var stats = await first.Library.GetStatsAsync();
        Assert.Equal((40L, 40L, 40L), (stats.Files, stats.Indexed, stats.Contents));
    }

    [Fact]
    public async Task Index_LibraryAboveTheHnswThreshold_SavesTheGraphBesideTheDatabaseAndSearchesThroughIt()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 30; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 300 + i);
        }

        var options = new LibraryOptions { Index = new Search.VectorIndexOptions { HnswThreshold = 20 } };
        await using (var lib = await OpenAsync(Sqlite, temp, options))
        {
            await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        }

        await using var reopened = await ImageLibrary.OpenAsync(temp.File("library.db"), options);
        var described = await reopened.DescribeSearchAsync();   // from the saved graph, before anything is loaded
        var query = Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(temp.File("photos", "img07.bmp"), Model.Preprocess, new())])[0];
        var top = (await reopened.SearchVectorAsync(query, 1))[0];

        Assert.True(File.Exists(temp.File("library.db.hnsw")));
        Assert.Equal(Search.SearchMethodKind.Hnsw, (await reopened.DescribeSearchAsync()).Kind);   // the graph in use
        Assert.Equal(Search.SearchMethodKind.Hnsw, described.Kind);
        Assert.InRange(described.Recall!.Value, 0.0, 1.0);
        Assert.Equal(temp.File("photos", "img07.bmp"), top.Path);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_WithTheTextEncoder_StoresTheTextQueriesAndMeasuresBothRecalls(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 30; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 300 + i);
        }

        var options = new LibraryOptions { Index = new Search.VectorIndexOptions { HnswThreshold = 20 } };
        await using var lib = await OpenAsync(kind, temp, options);
        var before = await lib.Library.NeedsTextQueriesAsync();

        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var method = await lib.Library.DescribeSearchAsync();
        await using var store = await lib.OpenStoreAsync();
        var stored = await Search.RecallTextQueries.LoadAsync(store);

        // 30 images and at least 40 candidates: the approximate index returns every image, so both recalls are exactly 1.
        Assert.True(before);
        Assert.False(await lib.Library.NeedsTextQueriesAsync());
        Assert.Equal(Model.EmbedTexts(Search.RecallTextQueries.Prompts), stored);
        Assert.Equal(kind == Sqlite ? Search.SearchMethodKind.Hnsw : Search.SearchMethodKind.Pgvector, method.Kind);
        Assert.Equal((1.0, 1.0, 50), (method.Recall!.Value, method.TextRecall!.Value, method.TextQueries!.Value));
    }

    [Fact]
    public void Walk_SymlinkLoop_ListsEachFileOnce()
    {
        using var temp = ImageFolder("horse.png");
        Directory.CreateDirectory(temp.File("photos", "sub"));
        File.Copy(Fixtures.Path("images", "coffee.png"), temp.File("photos", "sub", "coffee.png"));
        Directory.CreateSymbolicLink(temp.File("photos", "sub", "loop"), temp.File("photos"));
        File.WriteAllText(temp.File("photos", "readme.txt"), "not an image extension: not listed");

        var files = FolderWalker.List(temp.File("photos")).Files;

        Assert.Equal([temp.File("photos", "horse.png"), temp.File("photos", "sub", "coffee.png")], files.Select(f => f.Path));
    }

    [Fact]
    public async Task Index_MissingFolder_IsAClearError()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Sqlite, temp);

        var e = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [temp.File("nope")]));

        Assert.Equal($"{temp.File("nope")}: no such folder.", e.Message);
    }

    internal static float[] Unit(int dim)
    {
        var v = new float[dim];
        v[0] = 1;
        return v;
    }

    /// <summary>Reports on the indexer's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<IndexProgress> action) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value) => action(value);
    }
}
