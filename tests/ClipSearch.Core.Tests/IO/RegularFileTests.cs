using System.Diagnostics;
using System.Security.Cryptography;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.IO;

namespace ClipSearch.Core.Tests.IO;

/// <summary>The tests that stall reads run alone: the count of stuck reads is the process's.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StalledReadsCollection
{
    public const string Name = "Stalled reads";
}

/// <summary>Only regular files are read, within a byte limit and a timeout; a stalled read never holds the caller.</summary>
[Collection(StalledReadsCollection.Name)]
public sealed class RegularFileTests
{
    /// <summary>Generous: each of these takes milliseconds, or a second for the timeouts; hanging is the failure.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(500);

    [Fact]
    public void ReadAllBytes_RegularFileAndLinkToIt_ReturnTheBytes()
    {
        using var temp = new TempFolder();
        var bytes = RandomNumberGenerator.GetBytes(3 << 20);
        File.WriteAllBytes(temp.File("a.bin"), bytes);
        File.CreateSymbolicLink(temp.File("link.bin"), temp.File("a.bin"));

        Assert.Equal(bytes, RegularFile.ReadAllBytes(temp.File("a.bin"), RegularFile.DefaultMaxBytes, Bound));
        Assert.Equal(bytes, RegularFile.ReadAllBytes(temp.File("link.bin"), RegularFile.DefaultMaxBytes, Bound));
        Assert.Equal(SHA256.HashData(bytes), RegularFile.Sha256(temp.File("link.bin"), Bound));
    }

    [Fact]
    public void FileStatGet_FileAndLinkToIt_GiveTheSizeAndTimeFileInfoGives()
    {
        // Libraries indexed before FileStat recorded FileInfo's values: they must compare equal, or every file would be re-read.
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.png"), new byte[12345]);
        File.SetLastWriteTimeUtc(temp.File("a.png"), new DateTime(2021, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567));
        File.CreateSymbolicLink(temp.File("link.png"), temp.File("a.png"));
        var info = new FileInfo(temp.File("a.png"));

        var stat = FileStat.Get(temp.File("a.png"));
        var viaLink = FileStat.Get(temp.File("link.png"));
        var link = FileStat.Get(temp.File("link.png"), followLinks: false);

        Assert.Equal((FileKind.Regular, info.Length, info.LastWriteTimeUtc.Ticks), (stat.Kind, stat.Size, stat.ModifiedTicks));
        Assert.Equal(stat, viaLink);
        Assert.Equal(FileKind.SymbolicLink, link.Kind);
        Assert.Equal(FileKind.Directory, FileStat.Get(temp.Path).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileStat.Get("/dev/null").Kind);
    }

    [Fact]
    public async Task LoadCrop_FifoNamedLikeAnImage_IsRefusedAtOnceAsANamedPipe()
    {
        using var temp = new TempFolder();
        SpecialFiles.MakeFifo(temp.File("x.jpg"));

        // File.ReadAllBytes blocks in open() until a writer comes: forever.
        var e = await Assert.ThrowsAsync<ImageLoadException>(() =>
            Task.Run(() => ImageLoader.LoadCrop(temp.File("x.jpg"), PreprocessConfig.Default, new ImageLoadOptions())).WaitAsync(Bound));

        Assert.Equal($"{temp.File("x.jpg")} cannot be read: it is a named pipe (FIFO), not a regular file", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero", "a character device")]
    [InlineData("/dev/random", "a character device")]
    [InlineData("/dev/null", "a character device")]
    public async Task LoadCrop_LinkToADevice_IsRefusedAtOnce(string device, string kind)
    {
        using var temp = new TempFolder();
        File.CreateSymbolicLink(temp.File("photo.png"), device);

        // /dev/zero read to its end never ends.
        var e = await Assert.ThrowsAsync<ImageLoadException>(() =>
            Task.Run(() => ImageLoader.LoadCrop(temp.File("photo.png"), PreprocessConfig.Default, new ImageLoadOptions())).WaitAsync(Bound));

        Assert.Equal($"{temp.File("photo.png")} cannot be read: it is {kind}, not a regular file", e.Message);
    }

    [Fact]
    public void Sha256_SocketAndFolder_AreRefusedSayingWhatTheyAre()
    {
        using var temp = new TempFolder();
        using var socket = SpecialFiles.MakeSocket(temp.File("s.jpg"));
        Directory.CreateDirectory(temp.File("d.jpg"));

        Assert.Equal("it is a socket, not a regular file", Assert.Throws<IOException>(() => RegularFile.Sha256(temp.File("s.jpg"), Bound)).Message);
        Assert.Equal("it is a folder, not a regular file", Assert.Throws<IOException>(() => RegularFile.Sha256(temp.File("d.jpg"), Bound)).Message);
        Assert.Throws<FileNotFoundException>(() => RegularFile.Sha256(temp.File("none.jpg"), Bound));
        Assert.Equal("the path contains a NUL character", Assert.Throws<IOException>(() => RegularFile.Sha256(temp.File("a\0b"), Bound)).Message);
    }

    [Fact]
    public void ReadAllBytes_FileOverTheLimit_IsRefusedBeforeReading()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("big.png"), new byte[2_500_000]);

        var e = Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(temp.File("big.png"), 1_000_000, Bound));

        Assert.Equal("it is 2.5 MB, over the 1 MB limit for one file", e.Message);
    }

    [Fact]
    public void Sha256AndReadAllBytes_FileGrowingAfterItWasOpened_ReadTheSizeItHadThen()
    {
        using var temp = new TempFolder();
        var path = temp.File("growing.png");
        var start = RandomNumberGenerator.GetBytes(1 << 20);
        File.WriteAllBytes(path, start);
        // 1 MB appended after each open, before the first read: a file being written meanwhile (a log, a download).
        void Grow(string p)
        {
            if (p == path)
            {
                using var append = new FileStream(path, FileMode.Append);
                append.Write(new byte[1 << 20]);
            }
        }

        RegularFile.BeforeReadForTests += Grow;
        try
        {
            Assert.Equal(SHA256.HashData(start), RegularFile.Sha256(path, Bound));
            Assert.Equal([.. start, .. new byte[1 << 20]], RegularFile.ReadAllBytes(path, RegularFile.DefaultMaxBytes, Bound));
        }
        finally
        {
            RegularFile.BeforeReadForTests -= Grow;
        }
    }

    [Fact]
    public void ReadAllBytes_ReadThatStalls_TimesOutAndTheCallerGoesOn()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.png"), [1, 2, 3]);
        var clock = Stopwatch.StartNew();
        FileReadTimeoutException e;
        using (var stall = new StalledReads(temp.Path))
        {
            e = Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(temp.File("a.png"), RegularFile.DefaultMaxBytes, Short));
            Assert.Equal(1, stall.Stalled);
            Assert.Equal(1, RegularFile.StuckReads);   // its thread still waits, as one stuck in the kernel would
        }

        Assert.InRange(clock.Elapsed, Short, Bound);
        Assert.Equal("timed out after 0.5 s without data (a hung network mount or disk?)", e.Message);
        WaitUntil(() => RegularFile.StuckReads == 0);   // released: the thread closed the file and ended
        Assert.Equal([1, 2, 3], RegularFile.ReadAllBytes(temp.File("a.png"), RegularFile.DefaultMaxBytes, Short));
    }

    [Fact]
    public async Task ReadAllBytes_CancelledWhileStalled_ReturnsAtOnce()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.png"), [1, 2, 3]);
        using var stall = new StalledReads(temp.Path);
        using var cancel = new CancellationTokenSource();
        var read = Task.Run(() => RegularFile.ReadAllBytes(temp.File("a.png"), RegularFile.DefaultMaxBytes, TimeSpan.FromMinutes(5), cancel.Token));
        WaitUntil(() => stall.Stalled == 1);
        var clock = Stopwatch.StartNew();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Bound));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    // The same waits without a thread (a server's requests): the timeout and the cancellation both end it.
    [Fact]
    public async Task ReadAllBytesAsync_ReadThatStalls_TimesOutOrIsCancelledWithoutBlockingTheCaller()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.png"), [1, 2, 3]);
        Assert.Equal([1, 2, 3], await RegularFile.ReadAllBytesAsync(temp.File("a.png"), RegularFile.DefaultMaxBytes, Short));
        using (var stall = new StalledReads(temp.Path))
        {
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<FileReadTimeoutException>(() => RegularFile.ReadAllBytesAsync(temp.File("a.png"), RegularFile.DefaultMaxBytes, Short));
            Assert.InRange(clock.Elapsed, Short, Bound);
            Assert.StartsWith("timed out after 0.5 s", e.Message, StringComparison.Ordinal);

            using var cancel = new CancellationTokenSource();
            var read = RegularFile.ReadAllBytesAsync(temp.File("a.png"), RegularFile.DefaultMaxBytes, TimeSpan.FromMinutes(5), cancel.Token);
            WaitUntil(() => stall.Stalled == 2);
            Assert.False(read.IsCompleted);
            clock.Restart();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Bound));
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        }

        WaitUntil(() => RegularFile.StuckReads == 0);
        SpecialFiles.MakeFifo(temp.File("x.jpg"));
        var fifo = await Assert.ThrowsAsync<IOException>(() => RegularFile.ReadAllBytesAsync(temp.File("x.jpg"), RegularFile.DefaultMaxBytes, Bound));
        Assert.Contains("named pipe", fifo.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAllBytes_ManyStuckReads_FurtherReadsFailAtOnceUntilTheyEnd()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(temp.File("a.png"), [1, 2, 3]);
        using (var stall = new StalledReads(temp.Path))
        {
            Parallel.For(0, RegularFile.MaxStuckReads, new ParallelOptions { MaxDegreeOfParallelism = RegularFile.MaxStuckReads }, _ =>
                Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(temp.File("a.png"), 100, Short)));
            Assert.Equal(RegularFile.MaxStuckReads, RegularFile.StuckReads);
            var clock = Stopwatch.StartNew();

            var e = Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(temp.File("a.png"), 100, Bound));

            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));   // not tried: no new thread
            Assert.Equal($"not read: {RegularFile.MaxStuckReads} earlier reads of files on {Mounts.MountPointOf(temp.Path)} are still waiting for the system (a hung network mount or disk?)", e.Message);
            Assert.Equal(RegularFile.MaxStuckReads, stall.Stalled);
        }

        WaitUntil(() => RegularFile.StuckReads == 0);
    }

    [SkippableFact]
    public void ReadAllBytes_ManyStuckReadsOnOneMount_ReadsOnAnotherMountGoOn()
    {
        using var temp = new TempFolder();
        var other = Path.Combine("/dev/shm", "clipsearch-tests-" + Guid.NewGuid().ToString("N"));
        Skip.IfNot(Directory.Exists("/dev/shm") && Mounts.MountPointOf(other) != Mounts.MountPointOf(temp.Path), "needs /dev/shm on a mount other than the temporary folder's");
        File.WriteAllBytes(temp.File("a.png"), [1, 2, 3]);
        Directory.CreateDirectory(other);
        try
        {
            File.WriteAllBytes(Path.Combine(other, "b.png"), [4, 5, 6]);
            using (var stall = new StalledReads(temp.Path))
            {
                // One mount stops answering: its reads pile up to the limit.
                Parallel.For(0, RegularFile.MaxStuckReads, new ParallelOptions { MaxDegreeOfParallelism = RegularFile.MaxStuckReads }, _ =>
                    Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(temp.File("a.png"), 100, Short)));

                var refused = Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(temp.File("a.png"), 100, Bound));

                // Files elsewhere are still read (before, every read of the process failed at once).
                Assert.Equal([4, 5, 6], RegularFile.ReadAllBytes(Path.Combine(other, "b.png"), 100, Bound));
                Assert.Contains($"earlier reads of files on {Mounts.MountPointOf(temp.Path)} are still waiting", refused.Message, StringComparison.Ordinal);
                Assert.Equal(RegularFile.MaxStuckReads, RegularFile.StuckReads);
            }

            WaitUntil(() => RegularFile.StuckReads == 0);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public void MountPointOf_IsTheLongestMountPointThePathLiesUnder()
    {
        Assert.Equal("/", Mounts.MountPointOf("/"));
        Assert.Equal("/proc", Mounts.MountPointOf("/proc/self/status"));
        Assert.Equal("/proc", Mounts.MountPointOf("/proc/../proc/x"));   // lexically normalised, nothing asked of the file system
        Assert.NotEqual("/proc", Mounts.MountPointOf("/procx/a"));       // a prefix of the text is not a folder above it
        Assert.Equal("/mnt/my photos", Mounts.Unescape("/mnt/my\\040photos"));
        Assert.Equal("/a\\b", Mounts.Unescape("/a\\134b"));
    }

    [Fact]
    public async Task ReadAllBytesAsync_CallerContinuesOffTheReaderThread_AndTheReaderIsFreedAtOnce()
    {
        using var temp = new TempFolder();
        var path = temp.File("a.png");
        File.WriteAllBytes(path, [1, 2, 3]);
        using var readerDone = new ManualResetEventSlim();
        void Done(string p)
        {
            if (p == path)
            {
                readerDone.Set();
            }
        }

        // What the caller does after the await: it must not run on the reader's 256 KB stack, and the reader must
        // not wait for it to finish (image decodes, a web request's rest).
        async Task<(string? Thread, bool ReaderDoneMeanwhile)> Caller(Task<byte[]> read)
        {
            var bytes = await read.ConfigureAwait(false);
            Assert.Equal([1, 2, 3], bytes);
            return (System.Threading.Thread.CurrentThread.Name, readerDone.Wait(TimeSpan.FromSeconds(5)));
        }

        RegularFile.AfterReadForTests += Done;
        try
        {
            Task<(string?, bool)> caller;
            using (var stall = new StalledReads(temp.Path))
            {
                // Held on the reader thread, so that the caller's await is in place when the read completes.
                caller = Caller(RegularFile.ReadAllBytesAsync(path, RegularFile.DefaultMaxBytes, Bound));
                WaitUntil(() => stall.Stalled == 1);
            }

            var (thread, readerDoneMeanwhile) = await caller.WaitAsync(Bound);

            Assert.NotEqual("ClipSearch file read", thread);
            Assert.True(readerDoneMeanwhile, "the reader thread was held until the caller's continuation returned");
        }
        finally
        {
            RegularFile.AfterReadForTests -= Done;
        }
    }

    [Fact]
    public void ReadAllBytes_FifoWithAWriterWaitingForAReader_IsRefusedWithoutReleasingTheWriter()
    {
        using var temp = new TempFolder();
        var fifo = temp.File("w.jpg");
        SpecialFiles.MakeFifo(fifo);
        // A shell waiting in open() for a reader: opening the FIFO for reading, even non-blocking, lets it go on.
        using var writer = Process.Start(new ProcessStartInfo("bash", ["-c", $"echo hi > '{fifo}'"]) { UseShellExecute = false })!;
        try
        {
            WaitUntil(() => WaitsForAReader(writer));

            var e = Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(fifo, RegularFile.DefaultMaxBytes, Bound));

            Assert.Equal("it is a named pipe (FIFO), not a regular file", e.Message);
            Thread.Sleep(300);   // a released writer writes "hi", finds no reader and ends (SIGPIPE) within moments
            Assert.False(writer.HasExited, "the FIFO was opened: its writer went on");
            Assert.True(WaitsForAReader(writer), "the FIFO was opened: its writer went on");
        }
        finally
        {
            writer.Kill();
            writer.WaitForExit(Bound);
        }
    }

    [Fact]
    public void ReadAllBytes_LinkToADeviceNode_IsRefusedWithoutOpeningIt()
    {
        using var temp = new TempFolder();
        // A device node of our own (the same device as /dev/null), so that no other process opens it meanwhile.
        var device = temp.File("null");
        SpecialFiles.Run("mknod", device, "c", "1", "3");
        File.CreateSymbolicLink(temp.File("photo.jpg"), device);
        using var opens = new OpenWatch(device);

        var e = Assert.Throws<IOException>(() => RegularFile.ReadAllBytes(temp.File("photo.jpg"), RegularFile.DefaultMaxBytes, Bound));
        var hash = Assert.Throws<IOException>(() => RegularFile.Sha256(device, Bound));

        Assert.Equal("it is a character device, not a regular file", e.Message);
        Assert.Equal(e.Message, hash.Message);
        Assert.Equal(0, opens.Opens());   // opening a device runs its driver (a watchdog arms, a tape rewinds)
        using (File.OpenRead(device))
        {
        }

        Assert.Equal(1, opens.Opens());   // the watch does see an open
    }

    [Fact]
    public void ReadAllBytes_FileUnderALeaseReleasedSoon_IsReadOnceTheHolderLetsGo()
    {
        using var temp = new TempFolder();
        var path = temp.File("a.png");
        File.WriteAllBytes(path, [1, 2, 3]);
        // A write lease (as Samba's oplocks and knfsd's delegations take): an open for reading waits until its
        // holder lets go; with O_NONBLOCK it fails with EAGAIN instead.
        using var holder = LeaseHolder.Start(path, TimeSpan.FromSeconds(1));
        try
        {
            var clock = Stopwatch.StartNew();

            var bytes = RegularFile.ReadAllBytes(path, RegularFile.DefaultMaxBytes, Bound);

            Assert.Equal([1, 2, 3], bytes);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300), Bound);   // it did wait for the lease
        }
        finally
        {
            holder.Kill();
        }
    }

    [Fact]
    public void ReadAllBytes_LeaseHeldPastTheTimeout_TimesOutAsATransientError()
    {
        using var temp = new TempFolder();
        var path = temp.File("a.png");
        File.WriteAllBytes(path, [1, 2, 3]);
        using var holder = LeaseHolder.Start(path, TimeSpan.FromMinutes(2));
        try
        {
            // Tried again at the next run (FileReadTimeoutException), not recorded as a lasting error.
            var e = Assert.Throws<FileReadTimeoutException>(() => RegularFile.ReadAllBytes(path, RegularFile.DefaultMaxBytes, Short));
            Assert.StartsWith("timed out after 0.5 s", e.Message, StringComparison.Ordinal);
            Assert.Equal(1, RegularFile.StuckReads);
        }
        finally
        {
            holder.Kill();   // the lease goes with its holder, and the waiting open returns
        }

        WaitUntil(() => RegularFile.StuckReads == 0);
    }

    /// <summary>True while <paramref name="process"/> waits in a FIFO's open() for the other end.</summary>
    private static bool WaitsForAReader(Process process)
    {
        try
        {
            return File.ReadAllText($"/proc/{process.Id}/wchan") == "wait_for_partner";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "the condition did not come true in time");
            Thread.Sleep(10);
        }
    }
}
