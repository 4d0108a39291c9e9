using ClipSearch.Core.IO;
using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Turns an encoded image into the RGB image a CLIP model sees, as openai/CLIP's preprocessing does on Pillow:
/// decode, EXIF orientation (optional), <c>convert("RGB")</c> (see <see cref="ImageLoadOptions.ConvertToRgbBeforeResize"/>),
/// <c>Resize(shortest_edge, BICUBIC)</c>, <c>CenterCrop</c>. Normalise the result with <see cref="Normalizer"/>.
/// </summary>
public static class ImageLoader
{
    /// <summary>What every stage of a decode holds besides its pixels, at most: the resize's tables, the crop, small buffers.</summary>
    private const long StageAllowanceBytes = 1024 * 1024;

    /// <summary>The decoded shorter side kept by the fast JPEG path, as a multiple of the resize target.</summary>
    private const int FastPathMinimumRatio = 2;

    /// <summary>File extensions of the formats decoded, camera raw files included: what folder walks pick up (see <see cref="ImageFileTypes"/>).</summary>
    public static IReadOnlySet<string> FileExtensions => ImageFileTypes.AllExtensions;

    /// <summary>The display name of an image that came as bytes without a name.</summary>
    public const string UploadName = "upload";

    /// <summary>Decodes of at least this many bytes run on a thread of their own, never on a thread-pool thread (see <see cref="LoadCropAsync(ReadOnlyMemory{byte}, string, PreprocessConfig, ImageLoadOptions, CancellationToken)"/>).</summary>
    private const long OwnThreadDecodeBytes = 32 * DecodeBudget.BytesPerMegabyte;

    /// <summary>
    /// Loads the image file at <paramref name="path"/> and returns its preprocessed crop. Only a regular file is read
    /// (see <see cref="RegularFile"/>), within <see cref="ImageLoadOptions.ReadTimeout"/>.
    /// </summary>
    /// <remarks>
    /// Takes the file's size and the bytes it decodes from the decode budget (<see cref="ImageLoadOptions.Budget"/>)
    /// at once, before the file is read (see <see cref="BudgetedFile"/>), blocking while they are not free.
    /// </remarks>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, not a regular file, timed out, empty, not an image, too large, truncated or corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the file was read.</exception>
    public static RgbImage LoadCrop(string path, PreprocessConfig config, ImageLoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        using var file = BudgetedFile.Read(path, options, CostOf(path, config, options), cancellationToken);
        return Preprocess(file.Bytes, path, config, options);
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> and returns its preprocessed crop; <paramref name="displayName"/> (a path,
    /// or <see cref="UploadName"/>) names the image in error messages.
    /// </summary>
    /// <remarks>Takes the bytes it decodes from the decode budget (<see cref="ImageLoadOptions.Budget"/>), blocking while they are not free.</remarks>
    /// <exception cref="ImageLoadException">The bytes are empty, not an image, too large, truncated or corrupt.</exception>
    public static RgbImage LoadCrop(ReadOnlySpan<byte> encoded, string displayName, PreprocessConfig config, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        string name = NameOf(displayName);
        var plan = Plan(encoded, name, config, options);
        using var lease = (options.Budget ?? DecodeBudget.Shared).Acquire(PeakBytesOf(plan, config, options));
        return Preprocess(encoded, name, config, options);
    }

    /// <summary>
    /// As <see cref="LoadCrop(string, PreprocessConfig, ImageLoadOptions, CancellationToken)"/>, waiting for the decode budget without
    /// blocking a thread (for servers: a thread-pool thread blocked on the budget is one less for every other request).
    /// </summary>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, not a regular file, timed out, empty, not an image, too large, truncated or corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the decode started.</exception>
    public static async Task<RgbImage> LoadCropAsync(string path, PreprocessConfig config, ImageLoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        using var file = await BudgetedFile.ReadAsync(path, options, CostOf(path, config, options), cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return await RunAsync(() => Preprocess(file.Bytes, path, config, options), file.PeakBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a synchronous decode of <paramref name="peakBytes"/> (pixels and codec) off the caller's thread: on a
    /// thread of its own when it is large (seconds of work: a few must not occupy the thread pool that answers every
    /// other request), else on the thread pool.
    /// </summary>
    public static Task<T> RunAsync<T>(Func<T> decode, long peakBytes, CancellationToken cancellationToken = default) =>
        peakBytes >= OwnThreadDecodeBytes
            ? Task.Factory.StartNew(decode, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.Run(decode, cancellationToken);

    /// <summary>
    /// As <see cref="LoadCrop(ReadOnlySpan{byte}, string, PreprocessConfig, ImageLoadOptions)"/>: reads the header,
    /// waits (asynchronously) for the bytes the decode will hold at its peak from the decode budget, then decodes
    /// and preprocesses synchronously, off the caller's thread. Large decodes (tens of megabytes and up, which take
    /// seconds) run on a thread of their own, so that a few of them cannot occupy the thread pool that answers
    /// every other request.
    /// </summary>
    /// <exception cref="ImageLoadException">The bytes are empty, not an image, too large, truncated or corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the decode started.</exception>
    public static async Task<RgbImage> LoadCropAsync(ReadOnlyMemory<byte> encoded, string displayName, PreprocessConfig config, ImageLoadOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        string name = NameOf(displayName);
        var peak = PeakBytesOf(Plan(encoded.Span, name, config, options), config, options);
        using var lease = await (options.Budget ?? DecodeBudget.Shared).AcquireAsync(peak, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return await RunAsync(() => Preprocess(encoded.Span, name, config, options), peak, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The most bytes of pixels <see cref="LoadCrop(ReadOnlySpan{byte}, string, PreprocessConfig, ImageLoadOptions)"/>
    /// holds at once for <paramref name="encoded"/>, from its header alone: what it takes from the decode budget.
    /// </summary>
    /// <exception cref="ImageLoadException">The header is not an image's, or the image is over the limits.</exception>
    public static long PeakBytes(ReadOnlySpan<byte> encoded, string displayName, PreprocessConfig config, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        return PeakBytesOf(Plan(encoded, NameOf(displayName), config, options), config, options);
    }

    /// <summary>
    /// The width and height of the image in <paramref name="encoded"/>, upright (after its EXIF orientation when
    /// <paramref name="options"/> apply it, as the crop is made) and at full size, from its header: what Pillow's
    /// <c>size</c> is after <c>ImageOps.exif_transpose</c>. A camera raw file gives its preview's size when it has one
    /// (the image decoded).
    /// </summary>
    /// <exception cref="ImageLoadException">The header is not an image's, or the image is over the limits.</exception>
    public static (int Width, int Height) UprightSize(ReadOnlySpan<byte> encoded, string displayName, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = ImageDecoder.Probe(encoded, NameOf(displayName), options.MaxPixels, minShorterSide: null)!;
        return Upright(plan, options);
    }

    // The stages hold, at most, at once (each frees its input as soon as its output is made):
    //   decode  the decoded buffer (+ the one-channel copy of a grey image decoded as RGBA) and the codec's own
    //           buffers (CodecMemory: a progressive JPEG's coefficients, an interlaced PNG's image…);
    //   orient  the decoded buffer and its rotated copy;
    //   resize  its input, a premultiplied copy (RGBA/LA kept in their own mode), the pass between the two
    //           directions (at most the larger of output width × input height and input width × output height),
    //           and the output.
    // Plus StageAllowanceBytes at every stage: the resize's coefficient tables, the 224×224 crop (150 KB), small
    // buffers. Fitted to the resident growth of one decode, measured for every layout (docs/memory.md).
    private static long PeakBytesOf(DecodePlan plan, PreprocessConfig config, ImageLoadOptions options)
    {
        int channels = plan.Channels;
        long image = PixelBuffer.BytesFor(plan.Width, plan.Height, channels);
        long peak = plan.PeakBytes;
        var (width, height) = Upright(plan, options);
        if (options.ApplyExifOrientation && !IsUpright(plan.Origin))
        {
            peak = Math.Max(peak, 2 * image);
        }

        if (config.DoResize)
        {
            var (outWidth, outHeight) = ResizeGeometry.ShortestEdge(width, height, config.ShortestEdge);
            if (outWidth != width || outHeight != height)
            {
                var mode = options.ConvertToRgbBeforeResize ? ModeAfterRgbConversion(plan.Mode) : plan.Mode;
                long premultiplied = mode is PillowMode.Rgba or PillowMode.GreyAlpha ? image : 0;
                long between = Math.Max((long)outWidth * height, (long)width * outHeight) * channels;
                long output = PixelBuffer.BytesFor(outWidth, outHeight, channels);
                peak = Math.Max(peak, image + premultiplied + between + output);
            }
        }

        return peak + StageAllowanceBytes;
    }

    private static DecodePlan Plan(ReadOnlySpan<byte> encoded, string name, PreprocessConfig config, ImageLoadOptions options) =>
        Plan(encoded, name, config, options, isHead: false)!;

    private static DecodePlan? Plan(ReadOnlySpan<byte> encoded, string name, PreprocessConfig config, ImageLoadOptions options, bool isHead)
    {
        var plan = ImageDecoder.Probe(encoded, name, options.MaxPixels, MinShorterSide(config, options), isHead);
        if (plan is not null)
        {
            CheckNotTooThin(plan.Width, plan.Height, name, config, options);
        }

        return plan;
    }

    // What a crop of the file costs, from its head or its whole bytes (the file's own bytes are added by BudgetedFile).
    private static DecodeCost CostOf(string path, PreprocessConfig config, ImageLoadOptions options) =>
        (encoded, isHead) => isHead && ImageFormats.Sniff(encoded.Span, path) == ImageFormat.CameraRaw
            ? CameraRawFile.HeadEstimateBytes
            : Plan(encoded.Span, path, config, options, isHead) is { } plan ? PeakBytesOf(plan, config, options) : null;

    private static RgbImage Preprocess(ReadOnlySpan<byte> encoded, string name, PreprocessConfig config, ImageLoadOptions options)
    {
        var filter = (ResampleFilter)config.Resample;
        var decoded = ImageDecoder.Decode(encoded, name, options.MaxPixels, MinShorterSide(config, options));

        // Each stage frees its input once its output is made (a stage with nothing to do returns its input).
        var pixels = decoded.Pixels;
        try
        {
            if (options.ApplyExifOrientation)
            {
                pixels = Next(pixels, ExifOrientation.Apply(pixels, decoded.Origin));
            }

            if (config.DoResize)
            {
                CheckNotTooThin(pixels.Width, pixels.Height, name, config, options);
                var (width, height) = ResizeGeometry.ShortestEdge(pixels.Width, pixels.Height, config.ShortestEdge);
                var mode = options.ConvertToRgbBeforeResize ? ModeAfterRgbConversion(decoded.Mode) : decoded.Mode;
                pixels = Next(pixels, PillowResize.Resize(pixels, mode, width, height, filter));
            }

            return config.DoCenterCrop
                ? CenterCrop.Apply(pixels, config.CropWidth, config.CropHeight)
                : CenterCrop.ToRgb(pixels);
        }
        finally
        {
            pixels.Dispose();
        }
    }

    private static PixelBuffer Next(PixelBuffer input, PixelBuffer output)
    {
        if (!ReferenceEquals(input, output))
        {
            input.Dispose();
        }

        return output;
    }

    // A very thin image (9 × 11,000,000 passes the decode limit) would resize to billions of pixels.
    private static void CheckNotTooThin(int width, int height, string name, PreprocessConfig config, ImageLoadOptions options)
    {
        if (!config.DoResize)
        {
            return;
        }

        var longer = (long)config.ShortestEdge * Math.Max(width, height) / Math.Min(width, height);
        if (longer * config.ShortestEdge > options.MaxPixels)
        {
            throw new ImageLoadException(
                $"{name} is {width}×{height}, too thin: resized to a shorter side of {config.ShortestEdge} it would be {longer} pixels long, over the {options.MaxPixels / 1e6:0.###} megapixel limit");
        }
    }

    private static int? MinShorterSide(PreprocessConfig config, ImageLoadOptions options) =>
        !options.Exact && config.DoResize ? config.ShortestEdge * FastPathMinimumRatio : null;

    private static (int Width, int Height) Upright(DecodePlan plan, ImageLoadOptions options) =>
        options.ApplyExifOrientation && ExifOrientation.SwapsAxes(plan.Origin) ? (plan.Height, plan.Width) : (plan.Width, plan.Height);

    private static bool IsUpright(SKEncodedOrigin origin) => origin is SKEncodedOrigin.TopLeft or (SKEncodedOrigin)0;


    private static string NameOf(string displayName) => string.IsNullOrEmpty(displayName) ? UploadName : displayName;

    internal static ImageLoadException? ReadError(string path, Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => new ImageLoadException($"{path} does not exist", e),
        IOException or UnauthorizedAccessException => new ImageLoadException($"{path} cannot be read: {e.Message}", e),
        _ => null,
    };

    // convert("RGB") before the resize: colour modes become RGB (alpha ignored, palettes already expanded by the
    // decoder); grey stays one channel, which resamples to the same values as its three equal RGB channels.
    private static PillowMode ModeAfterRgbConversion(PillowMode mode) =>
        mode is PillowMode.Grey or PillowMode.Bilevel ? PillowMode.Grey : PillowMode.Rgb;
}
