using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

public sealed class DecodeBudgetTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A 10000 × 10000 RGB PNG of one colour (100 megapixels, the default limit; about 300 KB).</summary>
    internal static readonly Lazy<byte[]> HundredMegapixelPng = new(() => TestImages.SolidPng(10_000, 10_000));

    [Fact]
    public async Task AcquireAsync_ManyConcurrentRequests_NeverHoldMoreThanCapacity()
    {
        var budget = new DecodeBudget(1000);
        var random = new Random(9);
        var sizes = Enumerable.Range(0, 200).Select(_ => (long)random.Next(1, 700)).ToArray();
        long overCapacity = 0;
        var tasks = sizes.Select(size => Task.Run(async () =>
        {
            using var lease = await budget.AcquireAsync(size);
            if (budget.InUse > budget.Capacity)
            {
                Interlocked.Increment(ref overCapacity);
            }

            await Task.Delay(1);
        }));

        await Task.WhenAll(tasks).WaitAsync(Patience);
        Assert.Equal(0, overCapacity);
        Assert.InRange(budget.Peak, 700, 1000);
        Assert.Equal(0, budget.InUse);
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public async Task Acquire_ThreadsOfTheirOwn_NeverHoldMoreThanCapacity()
    {
        var budget = new DecodeBudget(100);
        long overCapacity = 0;
        var threads = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(() =>
        {
            for (int n = 0; n < 50; n++)
            {
                using var lease = budget.Acquire(30 + i);
                if (budget.InUse > budget.Capacity)
                {
                    Interlocked.Increment(ref overCapacity);
                }

                Thread.SpinWait(1000);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

        await Task.WhenAll(threads).WaitAsync(Patience);
        Assert.Equal(0, overCapacity);
        Assert.InRange(budget.Peak, 30, 100);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task AcquireAsync_MoreThanCapacity_WaitsUntilAllIsFreeThenTakesAll()
    {
        var budget = new DecodeBudget(100);
        var small = await budget.AcquireAsync(30);
        var big = budget.AcquireAsync(500).AsTask();
        await Task.Delay(50);
        Assert.False(big.IsCompleted);

        small.Dispose();
        using var lease = await big.WaitAsync(Patience);
        Assert.Equal(100, lease.Bytes);
        Assert.Equal(100, budget.InUse);
    }

    [Fact]
    public async Task AcquireAsync_BigRequestWaiting_LaterSmallOnesQueueBehindIt()
    {
        var budget = new DecodeBudget(100);
        var first = await budget.AcquireAsync(60);
        var big = budget.AcquireAsync(80).AsTask();
        var small = budget.AcquireAsync(30).AsTask();   // would fit now (60 + 30), but the big one came first
        await Task.Delay(50);
        Assert.False(big.IsCompleted);
        Assert.False(small.IsCompleted);

        first.Dispose();
        var bigLease = await big.WaitAsync(Patience);
        await Task.Delay(50);
        Assert.False(small.IsCompleted);   // 80 + 30 > 100

        bigLease.Dispose();
        (await small.WaitAsync(Patience)).Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndLetsTheNextIn()
    {
        var budget = new DecodeBudget(100);
        using var held = await budget.AcquireAsync(60);
        using var cancel = new CancellationTokenSource();
        var head = budget.AcquireAsync(50, cancel.Token).AsTask();
        var behind = budget.AcquireAsync(30).AsTask();
        await Task.Delay(50);
        Assert.False(behind.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => head.WaitAsync(Patience));
        using var lease = await behind.WaitAsync(Patience);
        Assert.Equal(90, budget.InUse);
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public async Task Lease_ShrunkTo_GivesBackTheRestAndLetsWaitersIn_DisposeGivesBackWhatIsLeft()
    {
        var budget = new DecodeBudget(100);
        var reservation = budget.Acquire(80);
        var waiting = budget.AcquireAsync(50).AsTask();
        Assert.False(waiting.IsCompleted);

        reservation.ShrinkTo(30);

        using var granted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(30, reservation.Bytes);
        Assert.Equal(80, budget.InUse);
        reservation.ShrinkTo(60);   // never grows
        Assert.Equal(30, reservation.Bytes);
        reservation.Dispose();
        reservation.ShrinkTo(0);
        Assert.Equal(50, budget.InUse);
    }

    [Fact]
    public async Task TryAcquire_WhatIsFree_IsTakenAheadOfWaiters_ElseNull()
    {
        var budget = new DecodeBudget(100);
        using var held = budget.Acquire(60);
        var waiting = budget.AcquireAsync(50).AsTask();

        using var ahead = budget.TryAcquire(30);
        Assert.NotNull(ahead);
        Assert.Null(budget.TryAcquire(20));
        Assert.Equal(90, budget.InUse);
        Assert.False(waiting.IsCompleted);
        held.Dispose();
        using var granted = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(80, budget.InUse);
    }

    [Fact]
    public void Lease_DisposedTwice_GivesBackOnce()
    {
        var budget = new DecodeBudget(100);
        var lease = budget.Acquire(40);
        using var other = budget.Acquire(10);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(10, budget.InUse);
    }

    [Fact]
    public void PixelBuffer_Large_IsNativeAndFreedOnDispose()
    {
        var buffer = PixelBuffer.Allocate(1000, 1000, 4);
        Assert.True(buffer.IsNative);
        buffer.Span.Fill(7);
        Assert.Equal(7, buffer.Span[3_999_999]);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Span.Length);
        Assert.False(PixelBuffer.Allocate(10, 10, 4).IsNative);
    }

    [Fact]
    public async Task LoadCropAsync_BudgetHeldByOthers_WaitsThenDecodes()
    {
        var budget = new DecodeBudget(DecodeBudget.MinimumFor(1_000_000));
        var options = new ImageLoadOptions { Budget = budget };
        var png = TestImages.SolidPng(1000, 1000);
        var held = await budget.AcquireAsync(budget.Capacity);
        var load = ImageLoader.LoadCropAsync(png, "one.png", PreprocessConfig.Default, options);
        await Task.Delay(100);
        Assert.False(load.IsCompleted);
        Assert.Equal(1, budget.Waiting);

        held.Dispose();
        var crop = await load.WaitAsync(Patience);
        Assert.Equal(224, crop.Width);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void PeakBytes_RotatedImage_CountsTheOrientationCopy()
    {
        // exif_orientation6.jpg needs a rotated copy: the decoded buffer twice (at the fast path's scale).
        var jpeg = File.ReadAllBytes(Fixtures.Path("images", "exif_orientation6.jpg"));
        var exact = new ImageLoadOptions { Exact = true };
        long upright = ImageLoader.PeakBytes(jpeg, "r.jpg", PreprocessConfig.Default, exact with { ApplyExifOrientation = false });
        long rotated = ImageLoader.PeakBytes(jpeg, "r.jpg", PreprocessConfig.Default, exact);
        Assert.True(rotated > upright, $"{rotated} ≤ {upright}");

        var budget = new DecodeBudget();
        ImageLoader.LoadCrop(jpeg, "r.jpg", PreprocessConfig.Default, exact with { Budget = budget });
        Assert.Equal(rotated, budget.Peak);
        Assert.Equal(0, budget.InUse);
    }

    public static TheoryData<string, int> FixtureImagesAndOptions()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in Directory.GetFiles(Fixtures.Path("images")).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal))
        {
            for (int options = 0; options < 3; options++)
            {
                data.Add(name, options);
            }
        }

        return data;
    }

    // The pixel stages only (PixelBuffer counts what ImageLoader allocates on this thread): a stage that held more
    // buffers than PeakBytes counts fails here. What the codecs hold in native memory is not seen by this count; the
    // web tests' DecodeMemoryTests measure it (a child process's resident growth) for every layout that matters.
    [Theory]
    [MemberData(nameof(FixtureImagesAndOptions))]
    public void LoadCrop_FixtureImages_HoldNoMorePixelBuffersThanCharged(string fileName, int optionSet)
    {
        var options = optionSet switch
        {
            0 => new ImageLoadOptions(),
            1 => new ImageLoadOptions { Exact = true },
            _ => new ImageLoadOptions { Exact = true, ConvertToRgbBeforeResize = false },
        };
        var budget = new DecodeBudget();
        options = options with { Budget = budget };
        var encoded = File.ReadAllBytes(Fixtures.Path("images", fileName));

        PixelBuffer.ResetThreadPeak();
        long live = PixelBuffer.ThreadPeak;
        ImageLoader.LoadCrop(encoded, fileName, PreprocessConfig.Default, options);   // synchronous: on this thread
        long held = PixelBuffer.ThreadPeak - live;

        // At least the decoded image was counted (the count works), and no more than the charge.
        using var bitmap = SkiaSharp.SKBitmap.Decode(encoded);
        long smallest = (long)Math.Min(bitmap.Width, 224) * Math.Min(bitmap.Height, 224);
        Assert.True(held >= smallest, $"{fileName}: only {held:N0} bytes of pixel buffers were counted");
        Assert.True(held <= budget.Peak, $"{fileName}: held {held:N0} bytes, took {budget.Peak:N0} from the budget");
        Assert.Equal(0, budget.InUse);
    }
}

/// <summary>
/// Counts the managed bytes the process allocates while one image decodes, so it runs with no other test at the same
/// time (GC.GetTotalAllocatedBytes is process-wide).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
[Collection(Name)]
public sealed class DecodeBudgetAllocationTests
{
    public const string Name = "Measures the process's allocations";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task LoadCropAsync_HundredMegapixelPng_TakesItsDecodedBytesAndGivesThemBack()
    {
        var png = DecodeBudgetTests.HundredMegapixelPng.Value;
        var budget = new DecodeBudget();
        var options = new ImageLoadOptions { Budget = budget };

        long managedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var crop = await ImageLoader.LoadCropAsync(png, "big.png", PreprocessConfig.Default, options).WaitAsync(Patience);
        long managed = GC.GetTotalAllocatedBytes(precise: true) - managedBefore;

        // Decoded as RGBA: 10000 × 10000 × 4, plus the resize's intermediate rows and output (about 2 %) and the
        // stages' allowance (1 MiB).
        Assert.InRange(budget.Peak, 400_000_000L, 412_000_000L);
        Assert.Equal(budget.Peak, ImageLoader.PeakBytes(png, "big.png", PreprocessConfig.Default, options));
        Assert.Equal(0, budget.InUse);
        // The decoded pixels were native memory (freed at once), not a 400 MB array left to the GC.
        Assert.True(managed < 50_000_000, $"{managed:N0} managed bytes allocated");
        Assert.Equal((224, 224), (crop.Width, crop.Height));
        Assert.All(Enumerable.Range(0, crop.Pixels.Length / 3), i =>
            Assert.Equal((200, 120, 40), (crop.Pixels[3 * i], crop.Pixels[(3 * i) + 1], crop.Pixels[(3 * i) + 2])));
    }
}

/// <summary>
/// The race of a release granting a waiter between its queueing and its cancellation's registration
/// (<see cref="DecodeBudget.AfterQueuedForTests"/> makes it happen every time); alone, since the hook is process-wide.
/// </summary>
[Collection(DecodeBudgetAllocationTests.Name)]
public sealed class DecodeBudgetRegistrationTests
{
    [Fact]
    public async Task AcquireAsync_GrantedBeforeItsCancellationIsRegistered_DoesNotLeaveTheRegistration()
    {
        using var cancel = new CancellationTokenSource();   // lives on, as a request's token does
        var budget = new DecodeBudget(100);
        var weak = await AcquireGrantedDuringQueueing(budget, cancel.Token);

        for (var i = 0; i < 3 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // The registration's state is the waiter, whose task holds the lease: alive while the registration is.
        Assert.False(weak.IsAlive, "the cancellation registration outlived the grant (it holds the waiter and its lease)");
        Assert.Equal(0, budget.InUse);
        Assert.Equal(2, budget.Grants);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> AcquireGrantedDuringQueueing(DecodeBudget budget, CancellationToken token)
    {
        var held = budget.Acquire(100);
        DecodeBudget.AfterQueuedForTests = b =>
        {
            if (ReferenceEquals(b, budget))
            {
                held.Dispose();   // another thread's release, landing before the registration
            }
        };
        try
        {
            var lease = await budget.AcquireAsync(60, token);
            lease.Dispose();
            return new WeakReference(lease);
        }
        finally
        {
            DecodeBudget.AfterQueuedForTests = null;
        }
    }
}
