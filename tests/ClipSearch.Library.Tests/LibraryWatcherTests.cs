using ClipSearch.Library.Indexing;
using ClipSearch.Library.Watching;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// The watcher against a real file system and both stores: each change reaches the library through the incremental
/// index, and what it cost is counted from the runs' results (embeddings made, files recognised). Waits poll with a
/// generous bound; nothing here asserts how fast.
/// </summary>
public sealed class LibraryWatcherTests
{
    private static readonly TimeSpan _bound = TimeSpan.FromSeconds(120);

    /// <summary>Short debounce and settle, no rescan: only events drive these runs.</summary>
    private static readonly WatcherOptions _fast = new()
    {
        Debounce = TimeSpan.FromMilliseconds(200),
        Settle = TimeSpan.FromMilliseconds(1500),
        MaxBatchWait = TimeSpan.FromSeconds(3),
        RescanInterval = null,
        RescanAtStart = false,
        RetryDelay = TimeSpan.FromSeconds(1),
    };

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_NewFile_IsEmbeddedAndShownAsTheLastChange(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);
        var added = temp.File("photos", "horse.png");

        File.Copy(Fixtures.Path("images", "horse.png"), added);

        await Until(async () => (await PathsAsync(lib.Library)).Contains(added));
        await watch.QuietAsync();
        Assert.Equal(1, watch.Embedded);
        var state = watch.Watcher.State;
        Assert.Equal(added, state.LastChangePath);
        Assert.NotNull(state.LastChangeAt);
        Assert.Equal([temp.File("photos")], state.Folders);
        Assert.Empty(state.RescanOnly);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_ChangedFile_IsEmbeddedAgain(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png", "horse.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);
        var changed = temp.File("photos", "horse.png");

        File.Copy(Fixtures.Path("images", "page.png"), changed, overwrite: true);

        var page = Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(changed, Model.Preprocess, new())])[0];
        await Until(async () => (await lib.Library.SearchVectorAsync(page, 1)) is [{ Score: > 0.9999f } top] && top.Path == changed);
        await watch.QuietAsync();
        Assert.Equal(1, watch.Embedded);
        Assert.Equal(3L, (await lib.Library.GetStatsAsync()).Contents);   // the old content went with its only file
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_DeletedFile_IsDropped(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png", "horse.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);

        File.Delete(temp.File("photos", "chelsea.png"));

        await Until(async () => (await lib.Library.GetStatsAsync()).Files == 2);
        await watch.QuietAsync();
        Assert.DoesNotContain(temp.File("photos", "chelsea.png"), await PathsAsync(lib.Library));
        Assert.Equal((0, 1), (watch.Embedded, watch.Removed));
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_RenamedFile_IsLinkedToItsEmbeddingWithoutInference(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);
        Directory.CreateDirectory(temp.File("photos", "cats"));

        File.Move(temp.File("photos", "chelsea.png"), temp.File("photos", "cats", "chelsea-2024.png"));

        await Until(async () => (await PathsAsync(lib.Library)).SetEquals([temp.File("photos", "astronaut.png"), temp.File("photos", "cats", "chelsea-2024.png")]));
        await watch.QuietAsync();
        Assert.Equal((0, 1), (watch.Embedded, watch.Reused));
        Assert.Equal(2L, (await lib.Library.GetStatsAsync()).Contents);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_MoveBetweenTwoWatchedFolders_IsLinkedWithoutInference(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png");
        Directory.CreateDirectory(temp.File("other"));
        File.Copy(Fixtures.Path("images", "horse.png"), temp.File("other", "horse.png"));
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos"), temp.File("other")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos"), temp.File("other")]);

        File.Move(temp.File("photos", "chelsea.png"), temp.File("other", "chelsea.png"));

        await Until(async () => (await PathsAsync(lib.Library)).SetEquals(
            [temp.File("photos", "astronaut.png"), temp.File("other", "horse.png"), temp.File("other", "chelsea.png")]));
        await watch.QuietAsync();
        Assert.Equal((0, 1), (watch.Embedded, watch.Reused));
        Assert.Equal(3L, (await lib.Library.GetStatsAsync()).Contents);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_BurstOf200Files_EmbedsEachExactlyOnce(string kind)
    {
        using var temp = ImageFolder("astronaut.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);
        Directory.CreateDirectory(temp.File("photos", "burst"));

        for (var i = 0; i < 200; i++)
        {
            ClipSearch.Tests.TestImages.WriteBmp(temp.File("photos", "burst", $"{i:D3}.bmp"), 1000 + i);
        }

        await Until(async () => (await lib.Library.GetStatsAsync()).Indexed == 201);
        await watch.QuietAsync();
        Assert.Equal((200, 0, 0), (watch.Embedded, watch.Reused, watch.Failed));
        Assert.Equal(201L, (await lib.Library.GetStatsAsync()).Contents);
        Assert.InRange(watch.Runs, 1, 200);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_FileStillBeingWritten_IsReadOnceWhenComplete(string kind)
    {
        using var temp = ImageFolder("astronaut.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")]);
        var bytes = File.ReadAllBytes(Fixtures.Path("images", "coffee.png"));
        var target = temp.File("photos", "coffee.png");

        // Four chunks, each pause longer than the debounce (but shorter than the settle time).
        await using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
        {
            var chunk = (bytes.Length + 3) / 4;
            for (var offset = 0; offset < bytes.Length; offset += chunk)
            {
                await file.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)));
                await file.FlushAsync();
                await Task.Delay(_fast.Debounce * 3.5);
            }
        }

        await Until(async () => (await PathsAsync(lib.Library)).Contains(target));
        await watch.QuietAsync();
        Assert.Equal((1, 0), (watch.Embedded, watch.Failed));
        Assert.Empty(await lib.Library.GetErrorsAsync());
        var complete = Model.EmbedImages([Core.Imaging.ImageLoader.LoadCrop(target, Model.Preprocess, new())])[0];
        var top = (await lib.Library.SearchVectorAsync(complete, 1))[0];
        Assert.Equal(target, top.Path);
        Assert.Equal(1f, top.Score, 1e-4f);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Watch_EventsOff_TheRescanAloneKeepsTheFolderCurrent(string kind)
    {
        using var temp = ImageFolder("astronaut.png", "chelsea.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var options = _fast with { UseEvents = false, RescanInterval = TimeSpan.FromSeconds(1) };
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos")], options);

        File.Copy(Fixtures.Path("images", "horse.png"), temp.File("photos", "horse.png"));
        File.Delete(temp.File("photos", "chelsea.png"));

        await Until(async () => (await PathsAsync(lib.Library)).SetEquals([temp.File("photos", "astronaut.png"), temp.File("photos", "horse.png")]));
        await Until(() => Task.FromResult(watch.Embedded + watch.Removed >= 2));
        Assert.Equal((1, 1), (watch.Embedded, watch.Removed));
        var state = watch.Watcher.State;
        Assert.Equal([temp.File("photos")], state.RescanOnly);
        Assert.Equal(1.0, state.RescanIntervalSeconds);
        Assert.NotNull(state.LastRescanAt);
        Assert.True(watch.Batches.All(b => b.Kind == WatchRunKind.Rescan));
    }

    [Fact]
    public async Task Watch_FolderRemoved_StopsBeingWatched()
    {
        using var temp = ImageFolder("astronaut.png");
        Directory.CreateDirectory(temp.File("other"));
        await using var lib = await OpenAsync(Sqlite, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos"), temp.File("other")]);
        await using var watch = await Watching.StartAsync(lib.Library, [temp.File("photos"), temp.File("other")]);

        watch.Watcher.SetFolders([temp.File("photos")]);
        File.Copy(Fixtures.Path("images", "horse.png"), temp.File("other", "horse.png"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), temp.File("photos", "chelsea.png"));

        await Until(async () => (await PathsAsync(lib.Library)).Contains(temp.File("photos", "chelsea.png")));
        Assert.Equal([temp.File("photos")], watch.Watcher.State.Folders);
        Assert.DoesNotContain(temp.File("other", "horse.png"), await PathsAsync(lib.Library));
    }

    [Fact]
    public async Task Watch_RunRefusedWhileTheLibraryIsBusy_IsTriedAgain()
    {
        using var temp = ImageFolder("astronaut.png");
        await using var lib = await OpenAsync(Sqlite, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);
        var inner = LibraryWatcher.IndexerFor(lib.Library, Model);
        var refusals = 0;
        WatchIndexRun busyOnce = (folders, scope, token) => Interlocked.Increment(ref refusals) == 1 ? Task.FromResult<IndexResult?>(null) : inner(folders, scope, token);
        await using var watcher = new LibraryWatcher(busyOnce, _fast);
        watcher.SetFolders([temp.File("photos")]);
        watcher.Start();

        File.Copy(Fixtures.Path("images", "horse.png"), temp.File("photos", "horse.png"));

        await Until(async () => (await PathsAsync(lib.Library)).Contains(temp.File("photos", "horse.png")));
        Assert.Equal(2, refusals);
    }

    [Fact]
    public void Options_NegativeDebounce_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LibraryWatcher((_, _, _) => Task.FromResult<IndexResult?>(null), new WatcherOptions { Debounce = TimeSpan.FromSeconds(-1) }));

    private static async Task<HashSet<string>> PathsAsync(ImageLibrary library) =>
        [.. (await library.ListImagesAsync(0, 1000)).Select(i => i.Path)];

    private static async Task Until(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + _bound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not reached within {_bound.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }

    /// <summary>A started watcher over a library, with the totals of its runs.</summary>
    private sealed class Watching : IAsyncDisposable
    {
        private readonly List<WatchBatch> _batches = [];

        private Watching(LibraryWatcher watcher) => Watcher = watcher;

        public LibraryWatcher Watcher { get; }

        public IReadOnlyList<WatchBatch> Batches
        {
            get
            {
                lock (_batches)
                {
                    return [.. _batches];
                }
            }
        }

        public int Runs => Batches.Count;

        public int Embedded => Batches.Sum(b => b.Result?.Embedded ?? 0);

        public int Reused => Batches.Sum(b => b.Result?.Reused ?? 0);

        public int Removed => Batches.Sum(b => b.Result?.Removed ?? 0);

        public int Failed => Batches.Sum(b => b.Result?.Failed ?? 0);

        public static Task<Watching> StartAsync(ImageLibrary library, IReadOnlyList<string> folders, WatcherOptions? options = null)
        {
            var watching = new Watching(new LibraryWatcher(LibraryWatcher.IndexerFor(library, Model), options ?? _fast));
            watching.Watcher.BatchIndexed += (_, b) =>
            {
                lock (watching._batches)
                {
                    watching._batches.Add(b);
                }
            };
            watching.Watcher.SetFolders(folders);
            watching.Watcher.Start();
            return Task.FromResult(watching);
        }

        /// <summary>Waits until the run that made the change seen has ended and nothing is pending (its batch then counted).</summary>
        public Task QuietAsync() => Until(() => Task.FromResult(Watcher.State is { Status: WatchStatus.Watching, Pending: 0 }));

        public ValueTask DisposeAsync() => Watcher.DisposeAsync();
    }
}
