using System.Diagnostics;
using ClipSearch.Core;
using ClipSearch.Core.IO;
using ClipSearch.Library.Indexing;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// What the walk may not do to a library: drop the photos of a folder it could not list, give up on a large healthy
/// folder as if it were a dead mount, follow a link above the root by its real path, read outside the folders it is
/// confined to, hash a file it will refuse anyway, or look at a root outside its watchdog.
/// </summary>
[Collection(StalledReadsCollection.Name)]
public sealed class FolderWalkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task Index_SubfolderWhoseListingFails_KeepsWhatWasIndexedBelowItAndCountsItApart(string kind)
    {
        using var temp = ImageFolder("horse.png");
        var sub = temp.File("photos", "sub");
        Directory.CreateDirectory(sub);
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(sub, "coffee.png"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), Path.Combine(sub, "chelsea.png"));
        await using var lib = await OpenAsync(kind, temp);
        Assert.Equal(3, (await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound)).Embedded);

        IndexResult failing;
        using (WalkHooks.FailListing(sub, "Input/output error"))   // a disk error, as a network mount's EIO
        {
            // Before: sub listed nothing, so both of its photos were "missing" and removed (then embedded again later).
            failing = await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound);
        }

        var stats = await lib.Library.GetStatsAsync();
        var error = Assert.Single(await lib.Library.GetErrorsAsync());
        var healed = await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound);

        Assert.Equal((1, 1, 0, 0, 1), (failing.Scanned, failing.Unchanged, failing.Failed, failing.Removed, failing.FolderErrors));
        Assert.Equal((3L, 3L, 0L, 1L), (stats.Files, stats.Indexed, stats.Failed, stats.FolderErrors));   // a folder is not a file
        Assert.Equal((sub, $"{sub} is a folder that could not be listed: Input/output error"), (error.Path, error.Error));
        Assert.Equal((3, 3, 0, 0, 0), (healed.Scanned, healed.Unchanged, healed.Embedded, healed.Removed, healed.FolderErrors));
        Assert.Empty(await lib.Library.GetErrorsAsync());
        Assert.Equal((3L, 0L), ((await lib.Library.GetStatsAsync()).Files, (await lib.Library.GetStatsAsync()).FolderErrors));
    }

    [Fact]
    public async Task Index_FolderMoreThanMaxDepthBelowTheRoot_KeepsWhatWasIndexedThereFromCloserUp()
    {
        using var temp = new TempFolder();
        // photos/d/d/…/d/horse.png: 65 folders down from photos, 64 from photos/d.
        var deepest = temp.File(["photos", .. Enumerable.Repeat("d", FolderWalker.MaxDepth + 1)]);
        Directory.CreateDirectory(deepest);
        File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(deepest, "horse.png"));
        await using var lib = await OpenAsync(Sqlite, temp);
        Assert.Equal(1, (await lib.Library.IndexAsync(Model, [temp.File("photos", "d")]).WaitAsync(Bound)).Embedded);

        // Before: from photos the folder is too deep, so its photo was "missing" and removed from the library.
        var result = await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound);
        var listing = FolderWalker.List(temp.File("photos"));

        Assert.Equal((0, 1), (result.Removed, result.FolderErrors));
        Assert.Equal(1L, (await lib.Library.GetStatsAsync()).Indexed);
        Assert.Equal([deepest], listing.UnlistedFolders);
        var folder = Assert.Single(listing.Files);
        Assert.True(folder.IsFolder);
        Assert.Equal($"{deepest} is a folder more than {FolderWalker.MaxDepth} levels below {temp.File("photos")}: its images were not listed", folder.Problem);
    }

    [Fact]
    public async Task Index_ManyFilesWhoseStatusIsSlowToCome_IsNotStoppedAsAHungMount()
    {
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        Directory.CreateDirectory(photos);
        for (var i = 0; i < 25; i++)
        {
            File.WriteAllBytes(Path.Combine(photos, $"empty{i:D2}.jpg"), []);
        }

        await using var lib = await OpenAsync(Sqlite, temp);
        var options = new IndexerOptions { ReadTimeout = TimeSpan.FromMilliseconds(400) };
        IndexResult result;
        // 40 ms per file: the listing is over at once, the status of the 25 files takes a second — a large folder
        // (150,000 files) on a healthy disk, in small. Before: only listing counted as progress, so the watchdog saw
        // a second of silence and stopped the run ("made no progress for 0.4 s").
        using (WalkHooks.SlowStat(p => p.StartsWith(photos + "/", StringComparison.Ordinal), TimeSpan.FromMilliseconds(40)))
        {
            result = await lib.Library.IndexAsync(Model, [photos], options).WaitAsync(Bound);
        }

        Assert.Equal((25, 25), (result.Scanned, result.Failed));   // empty files: found, and not images
    }

    [Fact]
    public void Walk_LinkToTheRealParentOfARootReachedThroughALink_IsNotFollowed()
    {
        using var temp = new TempFolder();
        var photos = temp.File("real", "photos");
        Directory.CreateDirectory(photos);
        Directory.CreateDirectory(temp.File("real", "secret"));
        File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(photos, "horse.png"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), temp.File("real", "secret", "private.png"));
        Directory.CreateSymbolicLink(Path.Combine(photos, "up"), "..");   // real/photos/up → real
        Directory.CreateSymbolicLink(temp.File("link"), photos);          // link → real/photos

        var direct = FolderWalker.List(photos).Files.Select(f => f.Path);
        // Before: the folders above link were taken from its text (temp, /), so up (real) was followed: secret listed.
        var throughLink = FolderWalker.List(temp.File("link")).Files.Select(f => f.Path);

        Assert.Equal([Path.Combine(photos, "horse.png")], direct);
        Assert.Equal([temp.File("link", "horse.png")], throughLink);
    }

    [Fact]
    public async Task Index_ConfinedToAFolder_LinksLeadingOutOfItAreErrorsAndNotRead()
    {
        using var temp = new TempFolder();
        var root = RealPath.Of(temp.Path)!;   // the real path, as a server passes its roots
        var allowed = Path.Combine(root, "allowed");
        var photos = Path.Combine(allowed, "photos");
        var outside = Path.Combine(root, "outside");
        Directory.CreateDirectory(photos);
        Directory.CreateDirectory(Path.Combine(allowed, "more"));
        Directory.CreateDirectory(Path.Combine(outside, "album"));
        File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(photos, "horse.png"));
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(allowed, "more", "coffee.png"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), Path.Combine(outside, "private.png"));
        File.Copy(Fixtures.Path("images", "astronaut.png"), Path.Combine(outside, "album", "astronaut.png"));
        File.CreateSymbolicLink(Path.Combine(photos, "private.png"), "../../outside/private.png");
        Directory.CreateSymbolicLink(Path.Combine(photos, "album"), "../../outside/album");
        File.CreateSymbolicLink(Path.Combine(photos, "coffee.png"), "../more/coffee.png");   // a link that stays inside
        Directory.CreateSymbolicLink(Path.Combine(allowed, "away"), outside);
        await using var lib = await OpenAsync(Sqlite, temp);
        var confined = new IndexerOptions { ConfineTo = [allowed] };

        // Before: no such option; the walk followed both links and indexed private.png and album/astronaut.png.
        var result = await lib.Library.IndexAsync(Model, [photos], confined).WaitAsync(Bound);
        var errors = (await lib.Library.GetErrorsAsync()).ToDictionary(e => Path.GetFileName(e.Path), e => e.Error);
        var throughLink = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.IndexAsync(Model, [Path.Combine(allowed, "away")], confined));
        var unconfined = FolderWalker.List(photos).Files.Count(f => f.Problem is null);

        Assert.Equal((3, 2, 1, 1), (result.Scanned, result.Embedded, result.Failed, result.FolderErrors));
        Assert.Equal(new Dictionary<string, string>
        {
            ["album"] = $"{photos}/album is a symbolic link to {outside}/album, outside the folders this server may read: it is not read",
            ["private.png"] = $"{photos}/private.png is a symbolic link to {outside}/private.png, outside the folders this server may read: it is not read",
        }, errors);
        Assert.Equal($"{allowed}/away is {outside} (through a symbolic link), outside the folders this server may read: it is not indexed.", throughLink.Message);
        Assert.DoesNotContain($"{allowed}/away", (await lib.Library.GetStatsAsync()).Folders);
        Assert.Equal(4, unconfined);   // without ConfineTo (the command line), links are followed as before
    }

    [Fact]
    public async Task Index_FileOverTheSizeLimit_IsAnErrorFromItsSizeAndIsNeverRead()
    {
        using var temp = ImageFolder("horse.png");
        var huge = temp.File("photos", "huge.jpg");
        using (var file = File.Create(huge))
        {
            file.SetLength(5_000_000_000);   // sparse: no disk used, but 5 GB to read
        }

        var reads = 0;
        Action<string> count = path =>
        {
            if (path == huge)
            {
                Interlocked.Increment(ref reads);
            }
        };
        await using var lib = await OpenAsync(Sqlite, temp);
        IndexResult result;
        RegularFile.BeforeReadForTests += count;
        try
        {
            // Before: the 5 GB were hashed (30 s on a disk), then the decoder refused the file for its size.
            result = await lib.Library.IndexAsync(Model, [temp.File("photos")]).WaitAsync(Bound);
        }
        finally
        {
            RegularFile.BeforeReadForTests -= count;
        }

        var error = Assert.Single(await lib.Library.GetErrorsAsync());
        Assert.Equal((2, 1, 1), (result.Scanned, result.Embedded, result.Failed));
        Assert.Equal($"{huge} cannot be read: it is 5 GB, over the 1 GB limit for one file", error.Error);
        Assert.Equal(0, reads);
    }

    [Fact]
    public async Task Index_RootWhoseStatusHangs_IsWatchedLikeTheRestOfTheWalk()
    {
        using var temp = ImageFolder("horse.png");
        var photos = temp.File("photos");
        await using var lib = await OpenAsync(Sqlite, temp);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // Before: the roots were checked with Directory.Exists on the caller's thread, ignoring the token (and, on a
        // dead hard-mounted NFS root, blocking there: the web's run sat at "scanning").
        await using var store = await lib.OpenStoreAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new LibraryIndexer(store, Model).IndexAsync([temp.File("nowhere")], null, cancelled.Token));

        using var hang = WalkHooks.HangStat(photos);
        var clock = Stopwatch.StartNew();
        var stuck = await Assert.ThrowsAsync<ClipSearchException>(
            () => lib.Library.IndexAsync(Model, [photos], new IndexerOptions { ReadTimeout = TimeSpan.FromMilliseconds(500) }).WaitAsync(Bound));
        clock.Stop();

        Assert.True(hang.Hits > 0, "the root's status was not asked on the walk's thread");
        Assert.Equal($"Listing {photos} made no progress for 0.5 s (a hung network mount or disk?): the run stopped, nothing was removed from the library.", stuck.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Empty((await lib.Library.GetStatsAsync()).Folders);   // a root that could not be looked at is not added
    }
}

/// <summary>The walk's test hooks for one folder (<see cref="FolderWalker"/>'s internals), removed on dispose.</summary>
internal sealed class WalkHooks : IDisposable
{
    private static readonly Lock _hooks = new();
    private readonly Action<string>? _list;
    private readonly Action<string>? _stat;
    private readonly ManualResetEventSlim _release = new();
    private int _hits;

    private WalkHooks(Func<WalkHooks, Action<string>>? list, Func<WalkHooks, Action<string>>? stat)
    {
        _list = list?.Invoke(this);
        _stat = stat?.Invoke(this);
        lock (_hooks)
        {
            FolderWalker.BeforeListForTests += _list;
            FolderWalker.BeforeStatForTests += _stat;
        }
    }

    /// <summary>Times a hook was hit.</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Listing <paramref name="folder"/> fails with an IOException saying <paramref name="message"/>.</summary>
    public static WalkHooks FailListing(string folder, string message) => new(_ => dir =>
    {
        if (dir == folder)
        {
            throw new IOException(message);
        }
    }, null);

    /// <summary>The status of each path <paramref name="match"/> takes <paramref name="delay"/>.</summary>
    public static WalkHooks SlowStat(Func<string, bool> match, TimeSpan delay) => new(null, _ => path =>
    {
        if (match(path))
        {
            Thread.Sleep(delay);
        }
    });

    /// <summary>The status of <paramref name="path"/> does not come until disposed (at most two minutes).</summary>
    public static WalkHooks HangStat(string path) => new(null, self => p =>
    {
        if (p == path)
        {
            Interlocked.Increment(ref self._hits);
            self._release.Wait(TimeSpan.FromMinutes(2));
        }
    });

    public void Dispose()
    {
        lock (_hooks)
        {
            FolderWalker.BeforeListForTests -= _list;
            FolderWalker.BeforeStatForTests -= _stat;
        }

        _release.Set();
    }
}
