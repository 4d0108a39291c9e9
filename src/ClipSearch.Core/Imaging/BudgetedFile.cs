using ClipSearch.Core.IO;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// What decoding an image holds at its peak besides its encoded bytes (pixels and the codec's buffers), from its
/// header: <paramref name="encoded"/> is the whole file, or only its head when <paramref name="isHead"/>, in which
/// case null means that the header does not end within it.
/// </summary>
/// <exception cref="ImageLoadException">Not an image, or over the limits.</exception>
public delegate long? DecodeCost(ReadOnlyMemory<byte> encoded, bool isHead);

/// <summary>
/// An image file's bytes, read under one lease of the decode budget that covers them and the decode's peak, taken
/// at once before the file is read (no decode holds part of the budget while it waits for more): the file's size
/// is read from the system and its head (<see cref="FirstHeadBytes"/>, grown up to <see cref="MaxHeadBytes"/> while
/// its header goes on) gives the decode's cost; then size + cost are taken, and only then is the file read. A header
/// that does not end within <see cref="MaxHeadBytes"/> is charged <see cref="WorstCaseBytesPerPixel"/> bytes a
/// pixel at the size limit. Nothing is held while waiting for the budget, not even the head. Dispose it to give the
/// bytes back once the decode is done.
/// </summary>
public sealed class BudgetedFile : IDisposable
{
    /// <summary>The head first read for the header.</summary>
    public const int FirstHeadBytes = 64 * 1024;

    /// <summary>The longest head read for the header (EXIF, ICC profiles and comments can come before it).</summary>
    public const int MaxHeadBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Bytes a pixel charged, at <see cref="ImageLoadOptions.MaxPixels"/>, for a file whose header cannot be read
    /// from its first <see cref="MaxHeadBytes"/>: more than any of Skia's layouts needs at its peak (a 16-bit
    /// interlaced PNG: 8 in the codec and 4 decoded). Some of ImageMagick's need more (AVIF and JPEG XL are charged up
    /// to 28, <see cref="MagickDecoder"/>): once the file is read whole its real cost is known, and a lease that does
    /// not cover it is taken again, larger (or, at the default capacity, the whole budget is taken anyway).
    /// </summary>
    public const int WorstCaseBytesPerPixel = 16;

    /// <summary>Reads tried before a file whose size or header keeps changing meanwhile is given up.</summary>
    private const int Attempts = 3;

    private readonly DecodeBudget.Lease _lease;

    private BudgetedFile(byte[] bytes, long peakBytes, DecodeBudget.Lease lease)
    {
        Bytes = bytes;
        PeakBytes = peakBytes;
        _lease = lease;
    }

    /// <summary>The file's bytes.</summary>
    public byte[] Bytes { get; }

    /// <summary>What the decode holds at its peak besides <see cref="Bytes"/> (pixels and codec).</summary>
    public long PeakBytes { get; }

    /// <summary>Reads <paramref name="path"/> under the budget of <paramref name="options"/>, waiting for it without blocking a thread.</summary>
    /// <param name="path">The image file (a regular file only, see <see cref="RegularFile"/>).</param>
    /// <param name="options">The budget (<see cref="ImageLoadOptions.Budget"/>), the size limit and the read timeout.</param>
    /// <param name="cost">The decode's peak besides the encoded bytes.</param>
    /// <param name="cancellationToken">Stops the wait and the read.</param>
    /// <exception cref="ImageLoadException">Missing, unreadable, not a regular file, timed out, not an image or over the limits.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<BudgetedFile> ReadAsync(string path, ImageLoadOptions options, DecodeCost cost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cost);
        var budget = options.Budget ?? DecodeBudget.Shared;
        long known = 0;
        for (var attempt = 1; ; attempt++)
        {
            var (size, peak) = await EstimateAsync(path, options, cost, cancellationToken).ConfigureAwait(false);
            peak = Math.Max(peak, known);
            var lease = await budget.AcquireAsync(size + peak, cancellationToken).ConfigureAwait(false);
            try
            {
                // Null, or a cost over the lease: its size or its header changed since its head was read (replaced
                // meanwhile, or a header read differently from its head). Then everything is given back and taken
                // again, as much as it needs.
                if (await ReadAllAsync(path, size, options, retryIfResized: attempt < Attempts, cancellationToken).ConfigureAwait(false) is { } bytes)
                {
                    var actual = Cost(cost, bytes, path);
                    if (actual <= peak || lease.Bytes >= budget.Capacity)   // (holding all of the budget, it may take more)
                    {
                        return new BudgetedFile(bytes, actual, lease);
                    }

                    known = actual;
                }
            }
            catch
            {
                lease.Dispose();
                throw;
            }

            lease.Dispose();
            if (attempt == Attempts)
            {
                throw new ImageLoadException($"{path} kept changing while it was read");
            }
        }
    }

    /// <summary>As <see cref="ReadAsync"/>, blocking the calling thread (for threads of their own: the command line).</summary>
    /// <inheritdoc cref="ReadAsync" path="/param"/>
    /// <inheritdoc cref="ReadAsync" path="/exception"/>
    public static BudgetedFile Read(string path, ImageLoadOptions options, DecodeCost cost, CancellationToken cancellationToken = default) =>
        ReadAsync(path, options, cost, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Gives the bytes back to the budget.</summary>
    public void Dispose() => _lease.Dispose();

    // The file's size and the decode's cost from its head; the head is dropped before the budget is waited for.
    private static async Task<(long Size, long Peak)> EstimateAsync(string path, ImageLoadOptions options, DecodeCost cost, CancellationToken cancellationToken)
    {
        for (var length = FirstHeadBytes; ; length *= 4)
        {
            var (size, head) = await ReadHeadAsync(path, length, options, cancellationToken).ConfigureAwait(false);
            if (size > RegularFile.DefaultMaxBytes)
            {
                await ReadAllAsync(path, size, options, retryIfResized: false, cancellationToken).ConfigureAwait(false);   // refused before reading, in RegularFile's words
                throw new ImageLoadException($"{path} is over the {RegularFile.DefaultMaxBytes / 1e9:0.#} GB limit for one file");
            }

            if (head.Length >= size)
            {
                return (size, Cost(cost, head, path));
            }

            if (cost(head, true) is { } peak)
            {
                return (size, peak);
            }

            if (length >= MaxHeadBytes)
            {
                return (size, WorstCaseBytesPerPixel * options.MaxPixels);
            }
        }
    }

    private static long Cost(DecodeCost cost, byte[] bytes, string path) =>
        cost(bytes, false) ?? throw new ImageLoadException($"{path} is truncated or corrupt (its header cannot be read)");

    // At most the size that was charged: a file that grew since is not read past its lease (null when
    // retryIfResized: its size is not the one charged any more; else RegularFile's refusal).
    private static async Task<byte[]?> ReadAllAsync(string path, long size, ImageLoadOptions options, bool retryIfResized, CancellationToken cancellationToken)
    {
        try
        {
            return await RegularFile.ReadAllBytesAsync(path, Math.Min(size, RegularFile.DefaultMaxBytes), options.ReadTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (retryIfResized && SizeNow(path) is { } now && now != size)
        {
            return null;
        }
        catch (Exception e) when (ImageLoader.ReadError(path, e) is { } error)
        {
            throw error;
        }
    }

    private static long? SizeNow(string path)
    {
        try
        {
            return FileStat.Get(path).Size;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The size of the regular file at <paramref name="path"/> and its first <paramref name="length"/> bytes (fewer
    /// when it is shorter), within the read timeout; what is not a regular file is refused in <see cref="RegularFile"/>'s words.
    /// </summary>
    private static async Task<(long Size, byte[] Head)> ReadHeadAsync(string path, int length, ImageLoadOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await RegularFile.ReadHeadAsync(path, length, options.ReadTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (ImageLoader.ReadError(path, e) is { } error)
        {
            throw error;
        }
    }
}
