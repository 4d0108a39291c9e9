using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// JPEG thumbnails of encoded images, upright per EXIF (<see cref="ExifOrientation"/>), decoded at a reduced scale
/// where the codec can, within a <see cref="DecodeBudget"/>.
/// </summary>
public static class Thumbnails
{
    /// <summary>Longest side of a thumbnail.</summary>
    public const int Side = 320;

    /// <summary>The MIME type of a thumbnail made here: a JPEG, or a PNG where the image has alpha.</summary>
    public static string ContentTypeOf(byte[] thumbnail) => ImageFormats.ContentTypeOf(thumbnail);

    /// <summary>Longest side of the view served in place of an original that browsers cannot show (HEIC, TIFF, JPEG XL, raw).</summary>
    public const int ViewSide = 2560;

    private const int Quality = 82;

    /// <summary>Largest image decoded for a thumbnail (as the model's loader allows by default).</summary>
    private const long MaxPixels = 100_000_000;

    /// <summary>Thumbnails decoding this many bytes or more run on a thread of their own (seconds of work), not the thread pool.</summary>
    private const long OwnThreadDecodeBytes = 32 * DecodeBudget.BytesPerMegabyte;

    /// <summary>
    /// A JPEG at most <see cref="Side"/> pixels on its longer side, upright per EXIF; what the decode holds
    /// (<see cref="PeakBytes"/>) is taken from <paramref name="budget"/> (default <see cref="DecodeBudget.Shared"/>),
    /// blocking while it is not free. Servers use <see cref="MakeAsync(byte[], string, DecodeBudget, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ImageLoadException">Not an image, over the size limit, truncated or corrupt.</exception>
    public static byte[] Make(byte[] encoded, string name, DecodeBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        var bytes = PeakBytes(encoded, name);
        using var lease = (budget ?? DecodeBudget.Shared).Acquire(bytes);
        return MakeThumbnail(encoded, name);
    }

    /// <summary>
    /// As <see cref="Make"/>, waiting for the decode budget without blocking a thread, then decoding off the
    /// caller's thread (on a thread of its own when the decode is large, as <see cref="ImageLoader"/> does). The
    /// bytes are already in memory (an upload, counted where it is held): only the decode is taken from the budget.
    /// </summary>
    /// <exception cref="ImageLoadException">Not an image, over the size limit, truncated or corrupt.</exception>
    public static async Task<byte[]> MakeAsync(byte[] encoded, string name, DecodeBudget budget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(budget);
        var bytes = PeakBytes(encoded, name);
        using var lease = await budget.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        return await ImageLoader.RunAsync(() => MakeThumbnail(encoded, name), bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A thumbnail of the image file at <paramref name="path"/> (a regular file only, within the read timeout): its
    /// size and what the decode holds are taken from <paramref name="budget"/> at once, before the file is read
    /// (see <see cref="BudgetedFile"/>), and given back once the thumbnail is made.
    /// </summary>
    /// <exception cref="ImageLoadException">Missing, unreadable, not a regular file, timed out, not an image, over the size limit, truncated or corrupt.</exception>
    public static async Task<byte[]> MakeAsync(string path, string name, DecodeBudget budget, CancellationToken cancellationToken = default)
    {
        using var file = await BudgetedFile.ReadAsync(path, ThumbnailReadOptions(budget), ThumbnailCost(name), cancellationToken).ConfigureAwait(false);
        return await ThumbnailOfReadAsync(file.Bytes, file.PeakBytes, name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How a file is read for a thumbnail: through <paramref name="budget"/>, with the thumbnail's pixel limit.</summary>
    public static ImageLoadOptions ThumbnailReadOptions(DecodeBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        return new ImageLoadOptions { Budget = budget, MaxPixels = MaxPixels };
    }

    /// <summary>What making a thumbnail of a file's bytes holds besides them, taken from the budget with its read (see <see cref="BudgetedFile"/>).</summary>
    public static DecodeCost ThumbnailCost(string name) => (encoded, isHead) => PeakBytesOf(encoded, name, isHead);

    /// <summary>A thumbnail of bytes read with <see cref="ThumbnailReadOptions"/> and <see cref="ThumbnailCost"/>, whose lease covers <paramref name="peakBytes"/>.</summary>
    /// <exception cref="ImageLoadException">Not an image, truncated or corrupt.</exception>
    public static Task<byte[]> ThumbnailOfReadAsync(byte[] encoded, long peakBytes, string name, CancellationToken cancellationToken = default) =>
        ImageLoader.RunAsync(() => MakeThumbnail(encoded, name), peakBytes, cancellationToken);

    /// <summary>
    /// What making a thumbnail of <paramref name="encoded"/> holds at once, from its header: the codec's own buffers
    /// (<see cref="CodecMemory"/>: a progressive JPEG's coefficients, an interlaced PNG's image, a lossless WebP's
    /// ARGB) with the image it decodes (RGBA, near twice the thumbnail's size for JPEG and WebP, which decode reduced;
    /// other formats at full size), then that image with the resized thumbnail, then the thumbnail, its upright copy
    /// and the JPEG written from it. Each stage frees what the next does not need.
    /// </summary>
    /// <exception cref="ImageLoadException">Not an image, or over the size limit.</exception>
    public static long PeakBytes(byte[] encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return PeakBytesOf(encoded, name, isHead: false)!.Value;
    }

    private static long? PeakBytesOf(ReadOnlyMemory<byte> encoded, string name, bool isHead, int side = Side)
    {
        if (DecodedByMagick(encoded.Span, name, isHead, out var estimate) is { } format)
        {
            return estimate ?? MagickPeakBytes(encoded.Span, format, name, isHead, side);
        }

        using var pinned = Open(encoded, name, isHead);
        if (pinned is null)
        {
            return null;
        }

        var codec = pinned.Codec!;
        var decoded = codec.GetScaledDimensions(DecodeScale(codec, 2 * side));
        long image = 4L * decoded.Width * decoded.Height;
        long thumbnail = 4L * side * side;
        long held = CodecMemory.Bytes(encoded.Span, codec.EncodedFormat, codec.Info.Width, codec.Info.Height);
        return Math.Max(held + image, Math.Max(image + thumbnail, (2 * thumbnail) + CodecMemory.FixedAllowanceBytes));
    }

    // The codec reads the bytes where they are (pinned until it is disposed): a large upload is not copied again.
    // Null (isHead) when the bytes are the head of a longer file whose header goes on past them.
    private static PinnedCodec? Open(ReadOnlyMemory<byte> encoded, string name, bool isHead = false)
    {
        if (encoded.Length == 0)
        {
            throw new ImageLoadException($"{name} is not an image ({ImageFormats.Readable}).");
        }

        var codec = new PinnedCodec(encoded);
        if (codec.Codec is null)
        {
            codec.Dispose();
            if (isHead && ImageFormats.Sniff(encoded.Span) is not null)
            {
                return null;
            }

            throw new ImageLoadException($"{name} is not an image ({ImageFormats.Readable}).");
        }

        if ((long)codec.Codec.Info.Width * codec.Codec.Info.Height > MaxPixels)
        {
            var (width, height) = (codec.Codec.Info.Width, codec.Codec.Info.Height);
            codec.Dispose();
            throw new ImageLoadException($"{name} is {width}×{height} pixels; the limit is {MaxPixels / 1_000_000} megapixels.");
        }

        return codec;
    }

    /// <summary>
    /// A JPEG (or a PNG where the image has alpha) at most <see cref="ViewSide"/> pixels on its longer side, upright:
    /// what the web serves in place of an original that browsers cannot show. The decode is taken from
    /// <paramref name="budget"/> while it runs.
    /// </summary>
    /// <exception cref="ImageLoadException">Not an image, over the size limit, truncated or corrupt.</exception>
    public static async Task<byte[]> ViewAsync(byte[] encoded, string name, DecodeBudget budget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(budget);
        var bytes = PeakBytesOf(encoded, name, isHead: false, ViewSide)!.Value;
        using var lease = await budget.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        return await ImageLoader.RunAsync(() => MakeThumbnail(encoded, name, ViewSide), bytes, cancellationToken).ConfigureAwait(false);
    }

    // Each stage is freed as soon as the next is made (the codec and its buffers once the pixels are decoded), as
    // PeakBytes counts them.
    private static byte[] MakeThumbnail(byte[] encoded, string name, int side = Side)
    {
        SKBitmap decoded;
        SKEncodedOrigin origin;
        if (DecodedByMagick(encoded, name, isHead: false, out _) is { } format)
        {
            if (format == ImageFormat.CameraRaw && CameraRawFile.Open(encoded, name) is { Preview: { } preview } raw)
            {
                // The raw file's preview, turned as the raw file is.
                decoded = DecodeSkia(preview, name, side, out _);
                origin = raw.Origin;
            }
            else
            {
                decoded = DecodeMagick(encoded, name, side, out origin);
            }
        }
        else
        {
            decoded = DecodeSkia(encoded, name, side, out origin);
        }

        SKBitmap resized;
        bool alpha;
        using (decoded)
        {
            alpha = decoded.AlphaType != SKAlphaType.Opaque && HasTransparency(decoded);
            var scale = Math.Min(1.0, side / (double)Math.Max(decoded.Width, decoded.Height));
            var width = Math.Max(1, (int)Math.Round(decoded.Width * scale));
            var height = Math.Max(1, (int)Math.Round(decoded.Height * scale));
            resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha ? SKAlphaType.Premul : SKAlphaType.Opaque),
                new SKSamplingOptions(SKCubicResampler.Mitchell));
        }

        using (resized)
        {
            using var upright = ExifOrientation.Apply(resized, origin);
            return alpha ? ImageEncoder.Png(upright) : ImageEncoder.Jpeg(upright, Quality);
        }
    }

    private static SKBitmap DecodeSkia(byte[] encoded, string name, int side, out SKEncodedOrigin origin)
    {
        using var pinned = Open(encoded, name)!;
        var codec = pinned.Codec!;
        origin = codec.EncodedOrigin;
        return DecodeNear(codec, 2 * side) ?? throw new ImageLoadException($"{name} is truncated or corrupt.");
    }

    // HEIC, AVIF, TIFF, JPEG XL and raw files without a preview: decoded whole by ImageMagick, and reduced to the
    // thumbnail's size straight from the decoded pixels (no copy of the full image).
    private static unsafe SKBitmap DecodeMagick(byte[] encoded, string name, int side, out SKEncodedOrigin origin)
    {
        using var image = ImageDecoder.Decode(encoded, name, MaxPixels, minShorterSide: null);
        origin = image.Origin;
        var pixels = image.Pixels;
        bool grey = pixels.Channels == 1;
        bool alpha = image.Mode is PillowMode.Rgba or PillowMode.GreyAlpha;
        var info = new SKImageInfo(pixels.Width, pixels.Height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, alpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        var scale = Math.Min(1.0, side / (double)Math.Max(pixels.Width, pixels.Height));
        var target = new SKImageInfo(Math.Max(1, (int)Math.Round(pixels.Width * scale)), Math.Max(1, (int)Math.Round(pixels.Height * scale)),
            SKColorType.Rgba8888, alpha ? SKAlphaType.Premul : SKAlphaType.Opaque);
        var bitmap = new SKBitmap(target);
        fixed (byte* source = pixels.Span)
        {
            using var from = new SKPixmap(info, (IntPtr)source, info.RowBytes);
            using var to = bitmap.PeekPixels();
            if (!from.ScalePixels(to, new SKSamplingOptions(SKCubicResampler.Mitchell)))
            {
                bitmap.Dispose();
                throw new ImageLoadException($"{name} could not be reduced to a thumbnail.");
            }
        }

        return bitmap;
    }

    private static bool HasTransparency(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888)
        {
            return true;
        }

        var pixels = bitmap.GetPixelSpan();
        for (int i = 3; i < pixels.Length; i += 4)
        {
            if (pixels[i] != 255)
            {
                return true;
            }
        }

        return false;
    }

    // The format when ImageMagick decodes it (null for Skia's formats); for a raw file's head, the estimate to charge.
    private static ImageFormat? DecodedByMagick(ReadOnlySpan<byte> encoded, string name, bool isHead, out long? headEstimate)
    {
        headEstimate = null;
        var format = ImageFormats.Sniff(encoded, name);
        if (format is not { } known || !known.DecodedByMagick())
        {
            return null;
        }

        if (isHead && known == ImageFormat.CameraRaw)
        {
            headEstimate = CameraRawFile.HeadEstimateBytes;
        }

        return known;
    }

    // The decode's plan (the raw file's preview where it has one), then the wrapped bitmap, its resized copy and the encoded result.
    private static long? MagickPeakBytes(ReadOnlySpan<byte> encoded, ImageFormat format, string name, bool isHead, int side)
    {
        if (ImageDecoder.Probe(encoded, name, MaxPixels, minShorterSide: 2 * side, isHead) is not { } plan)
        {
            return null;
        }

        long image = PixelBuffer.BytesFor(plan.Width, plan.Height, plan.Channels);
        long thumbnail = 4L * side * side;
        return Math.Max(plan.PeakBytes, image + thumbnail) + (3 * thumbnail) + CodecMemory.FixedAllowanceBytes + (format == ImageFormat.CameraRaw ? encoded.Length : 0);
    }

    // JPEG and WebP decode at a reduced scale directly (far less memory for large photos); others decode in full.
    // Only at that size: the budget was taken for it (a decode that fails there is reported as corrupt).
    private static SKBitmap? DecodeNear(SKCodec codec, int side)
    {
        var size = codec.GetScaledDimensions(DecodeScale(codec, side));
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is SKCodecResult.Success or SKCodecResult.IncompleteInput)
        {
            return bitmap;
        }

        bitmap.Dispose();
        return null;
    }

    // Only JPEG and WebP decode at a reduced size (Skia's other codecs decode the whole image whatever they are asked).
    private static float DecodeScale(SKCodec codec, int side) => codec.EncodedFormat is SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Webp
        ? Math.Min(1f, side / (float)Math.Max(codec.Info.Width, codec.Info.Height))
        : 1f;

    /// <summary>A codec over pinned bytes (an array's, or part of one): the pin, the Skia data wrapping them and the codec, released together.</summary>
    private sealed class PinnedCodec : IDisposable
    {
        private readonly System.Runtime.InteropServices.GCHandle _pin;
        private readonly SKData _data;

        public PinnedCodec(ReadOnlyMemory<byte> encoded)
        {
            if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(encoded, out var segment) || segment.Array is null)
            {
                throw new ArgumentException("The bytes must be an array's.", nameof(encoded));
            }

            _pin = System.Runtime.InteropServices.GCHandle.Alloc(segment.Array, System.Runtime.InteropServices.GCHandleType.Pinned);
            _data = SKData.Create(_pin.AddrOfPinnedObject() + segment.Offset, segment.Count);
            Codec = SKCodec.Create(_data);
        }

        public SKCodec? Codec { get; }

        public void Dispose()
        {
            Codec?.Dispose();
            _data.Dispose();
            _pin.Free();
        }
    }
}
