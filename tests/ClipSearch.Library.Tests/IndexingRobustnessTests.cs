using System.Diagnostics;
using System.Text.Json;
using ClipSearch.Core;
using ClipSearch.Library.Indexing;
using static ClipSearch.Library.Tests.TestLibraries;
using static ClipSearch.Tests.TestImages;

namespace ClipSearch.Library.Tests;

/// <summary>The tests that stall reads run one at a time (the count of stuck reads is the process's).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StalledReadsCollection
{
    public const string Name = "Stalled reads";
}

/// <summary>
/// What a folder may hold besides photos — FIFOs, devices, sockets, every kind of symbolic link, names that are not
/// UTF-8, reads that stall — and odd arguments: indexing always ends, soon, with each problem among the errors.
/// </summary>
[Collection(StalledReadsCollection.Name)]
public sealed class IndexingRobustnessTests
{
    /// <summary>Each run here takes a second or two; a hang is the failure these tests look for.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private const string Loop = "too many levels of symbolic links (a link that loops, or a chain longer than the system allows)";

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_FifoSocketAndLinksToDevices_AreErrorsWithTheirKindAndAreNotReadAgain(string kind)
    {
        using var temp = ImageFolder("horse.png");
        var photos = temp.File("photos");
        SpecialFiles.MakeFifo(Path.Combine(photos, "x.jpg"));
        using var socket = SpecialFiles.MakeSocket(Path.Combine(photos, "socket.jpg"));
        File.CreateSymbolicLink(Path.Combine(photos, "zero.jpg"), "/dev/zero");
        File.CreateSymbolicLink(Path.Combine(photos, "random.png"), "/dev/random");
        await using var lib = await OpenAsync(kind, temp);

        // Before: open() on the FIFO waited for a writer, and /dev/zero was hashed forever; Ctrl-C did nothing.
        var first = await lib.Library.IndexAsync(Model, [photos]).WaitAsync(Bound);
        var errors = (await lib.Library.GetErrorsAsync()).ToDictionary(e => Path.GetFileName(e.Path), e => e.Error);
        var again = await lib.Library.IndexAsync(Model, [photos]).WaitAsync(Bound);

        Assert.Equal((5, 1, 4), (first.Scanned, first.Embedded, first.Failed));
        Assert.Equal(new Dictionary<string, string>
        {
            ["random.png"] = $"{photos}/random.png is a symbolic link to /dev/random, which is a character device, not a regular file: it is not read",
            ["socket.jpg"] = $"{photos}/socket.jpg is a socket, not a regular file: it is not read",
            ["x.jpg"] = $"{photos}/x.jpg is a named pipe (FIFO), not a regular file: it is not read",
            ["zero.jpg"] = $"{photos}/zero.jpg is a symbolic link to /dev/zero, which is a character device, not a regular file: it is not read",
        }, errors);
        Assert.Equal((5, 5, 0), (again.Scanned, again.Unchanged, again.Failed));   // unchanged: not looked at again
    }

    [Fact]
    public void Walk_EveryKindOfSymbolicLinkAndBadName_ListsEachWithItsProblemAndNothingOutsideTheRoot()
    {
        using var temp = OddFolder();
        var photos = temp.File("photos");

        // Before: the self-link threw IOException out of Walk (exit 134 from `clipsearch index`).
        var files = FolderWalker.List(photos).Files.ToDictionary(f => Path.GetRelativePath(photos, f.Path), f => f.Problem);

        Assert.Equal(new Dictionary<string, string?>
        {
            ["a.jpg"] = $"{photos}/a.jpg is a symbolic link to b.jpg, which cannot be followed: {Loop}",
            ["b.jpg"] = $"{photos}/b.jpg is a symbolic link to a.jpg, which cannot be followed: {Loop}",
            ["caf\uFFFD.png"] = $"{photos}/caf\uFFFD.png: the file's name is not valid UTF-8, so it cannot be opened by the name .NET gives it; rename it",
            ["chain.png"] = $"{photos}/chain.png is a symbolic link to {photos}/chain.png.1, which cannot be followed: {Loop}",
            ["d\uFFFD"] = $"{photos}/d\uFFFD: the folder's name is not valid UTF-8, so it cannot be opened by the name .NET gives it; rename it",
            ["dangling.png"] = $"{photos}/dangling.png is a symbolic link to nowhere.png, which does not exist",
            ["horse.png"] = null,
            ["self.jpg"] = $"{photos}/self.jpg is a symbolic link to self.jpg, which cannot be followed: {Loop}",
            [Path.Combine("sub", "coffee.png")] = null,   // once: sub/loop leads back to the root, sub/up above it
        }, files);
    }

    [SkippableFact]
    public void Walk_FolderThatCannotBeListed_IsListedWithWhy()
    {
        Skip.If(SpecialFiles.IsRoot, "root lists any folder: a folder without permissions is readable (the command-line test drops to another user)");
        using var temp = ImageFolder("horse.png");
        var locked = temp.File("photos", "locked");
        Directory.CreateDirectory(locked);
        SpecialFiles.Run("chmod", "000", locked);
        try
        {
            var problem = Assert.Single(FolderWalker.List(temp.File("photos")).Files, f => f.Problem is not null);

            Assert.Equal(locked, problem.Path);
            Assert.StartsWith($"{locked} is a folder that could not be listed: ", problem.Problem, StringComparison.Ordinal);
        }
        finally
        {
            SpecialFiles.Run("chmod", "700", locked);
        }
    }

    [Fact]
    public async Task Index_EveryKindOfSymbolicLinkAndBadName_FromTheCommandLine_ExitsThreeListingThem()
    {
        using var temp = OddFolder();
        var db = temp.File("lib.db");

        var index = await CliRunner.RunAsync("index", "--model", Fixtures.Path("tiny-clip"), "--library", db, "--json", temp.File("photos")).WaitAsync(Bound);
        var errors = await CliRunner.RunAsync("library", "errors", "--library", db, "--json");

        Assert.True(index.ExitCode == 3, index.Stderr);   // some files could not be read; no crash (was 134)
        Assert.DoesNotContain("Unhandled exception", index.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", index.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, JsonDocument.Parse(index.Stdout).RootElement.GetProperty("embedded").GetInt32());
        Assert.Equal(7, JsonDocument.Parse(errors.Stdout).RootElement.GetArrayLength());
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_ReadThatStalls_IsAnErrorAfterTheTimeoutAndIsReadAgainNextRun(string kind)
    {
        using var temp = ImageFolder("horse.png");
        Directory.CreateDirectory(temp.File("photos", "slow"));
        File.Copy(Fixtures.Path("images", "coffee.png"), temp.File("photos", "slow", "coffee.png"));
        await using var lib = await OpenAsync(kind, temp);
        var options = new IndexerOptions { ReadTimeout = TimeSpan.FromSeconds(1) };
        IndexResult stalled;
        using (new StalledReads(temp.File("photos", "slow")))
        {
            // A hung network mount: the read never returns; the run goes on without it.
            stalled = await lib.Library.IndexAsync(Model, [temp.File("photos")], options).WaitAsync(Bound);
        }

        var error = Assert.Single(await lib.Library.GetErrorsAsync());
        var resumed = await lib.Library.IndexAsync(Model, [temp.File("photos")], options).WaitAsync(Bound);

        Assert.Equal((1, 1), (stalled.Embedded, stalled.Failed));
        Assert.Equal($"{temp.File("photos", "slow", "coffee.png")} could not be read: timed out after 1 s without data (a hung network mount or disk?); it is tried again at the next run", error.Error);
        Assert.Equal((1, 1, 0), (resumed.Unchanged, resumed.Embedded, resumed.Failed));
        Assert.Empty(await lib.Library.GetErrorsAsync());
    }

    [Fact]
    public async Task Index_StoppedWhileAReadStalls_EndsWithinSecondsAndKeepsTheLibraryUsable()
    {
        using var temp = ImageFolder("horse.png", "chelsea.png");
        await using var lib = await OpenAsync(Sqlite, temp);
        using var cancel = new CancellationTokenSource();
        Task<IndexResult> run;
        var clock = new Stopwatch();
        using (var stall = new StalledReads(temp.File("photos")))
        {
            // The default timeout (30 s) is far off: only cancellation can end this run soon.
            run = lib.Library.IndexAsync(Model, [temp.File("photos")], cancellationToken: cancel.Token);
            var waiting = Stopwatch.StartNew();
            while (stall.Stalled == 0 && waiting.Elapsed < Bound)
            {
                await Task.Delay(10);
            }

            Assert.True(stall.Stalled > 0, "no read stalled");
            clock.Start();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Bound));
            clock.Stop();
        }

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(2, (await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound)).Embedded);
    }

    [Fact]
    public async Task Index_FolderDeletedDuringTheRun_EndsWithoutCrashingAndTheNextRunRemovesNothing()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < 24; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D2}.bmp"), 700 + i);
        }

        await using var lib = await OpenAsync(Sqlite, temp);
        var progress = new SyncProgress(p =>
        {
            if (p.Phase == IndexPhase.Indexing && Directory.Exists(temp.File("photos")))
            {
                Directory.Delete(temp.File("photos"), recursive: true);   // an unplugged drive, a folder moved away
            }
        });

        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")], new IndexerOptions { CommitBatchSize = 4 }, progress: progress).WaitAsync(Bound);
        var files = (await lib.Library.GetStatsAsync()).Files;
        var again = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [temp.File("photos")]));

        Assert.Equal(24, result.Embedded + result.Failed);
        Assert.InRange(result.Embedded, 4, 23);
        Assert.Equal($"{temp.File("photos")}: no such folder.", again.Message);
        Assert.Equal(24L, files);
        Assert.Equal(24L, (await lib.Library.GetStatsAsync()).Files);   // a folder that is gone is not emptied
    }

    [Fact]
    public async Task Index_OddFolderArguments_AreClearErrors()
    {
        using var temp = ImageFolder("horse.png");
        SpecialFiles.MakeFifo(temp.File("fifo"));
        await using var lib = await OpenAsync(Sqlite, temp);

        // Before: Path.GetFullPath threw ArgumentException on the NUL (a crash, or a 500 from the web).
        var nul = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [temp.File("pho\0tos")]));
        var file = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [temp.File("photos", "horse.png")]));
        var fifo = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [temp.File("fifo")]).WaitAsync(Bound));

        Assert.Equal($"The folder path '{temp.File("pho\\0tos")}' contains a NUL character.", nul.Message);
        Assert.Equal($"{temp.File("photos", "horse.png")} is a file; index takes folders.", file.Message);
        Assert.Equal($"{temp.File("fifo")} is a named pipe (FIFO); index takes folders.", fifo.Message);   // the walk's own check names what it is
    }

    /// <summary>
    /// photos/ with horse.png and sub/coffee.png; links that loop (itself, a pair, a 45-link chain), a dangling
    /// link, links to the root and to the folder above it (which holds outside.png); a file and a folder whose
    /// names are not UTF-8.
    /// </summary>
    private static TempFolder OddFolder()
    {
        var temp = ImageFolder("horse.png");
        var photos = temp.File("photos");
        File.Copy(Fixtures.Path("images", "chelsea.png"), temp.File("outside.png"));
        Directory.CreateDirectory(Path.Combine(photos, "sub"));
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(photos, "sub", "coffee.png"));
        File.CreateSymbolicLink(Path.Combine(photos, "self.jpg"), "self.jpg");
        File.CreateSymbolicLink(Path.Combine(photos, "a.jpg"), "b.jpg");
        File.CreateSymbolicLink(Path.Combine(photos, "b.jpg"), "a.jpg");
        File.CreateSymbolicLink(Path.Combine(photos, "dangling.png"), "nowhere.png");
        SpecialFiles.MakeLinkChain(Path.Combine(photos, "chain.png"), Path.Combine(photos, "horse.png"), 45);   // Linux follows 40
        Directory.CreateSymbolicLink(Path.Combine(photos, "sub", "loop"), photos);
        Directory.CreateSymbolicLink(Path.Combine(photos, "sub", "up"), "../..");
        // Bytes .NET cannot decode as UTF-8 (é in Latin-1, and 0xFF): made by the shell, as .NET cannot name them.
        SpecialFiles.Run("sh", "-c", """cd "$0" && cp horse.png "$(printf 'caf\351.png')" && mkdir "$(printf 'd\377')" && cp horse.png "$(printf 'd\377')/in.png" """, photos);
        return temp;
    }

    /// <summary>Reports on the indexer's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<IndexProgress> action) : IProgress<IndexProgress>
    {
        public void Report(IndexProgress value) => action(value);
    }
}
