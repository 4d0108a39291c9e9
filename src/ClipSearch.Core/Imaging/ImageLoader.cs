using ClipSearch.Core.IO;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Turns an encoded image into the RGB image a CLIP model sees, as openai/CLIP's preprocessing does on Pillow:
/// decode, EXIF orientation (optional), <c>convert("RGB")</c> (see <see cref="ImageLoadOptions.ConvertToRgbBeforeResize"/>),
/// <c>Resize(shortest_edge, BICUBIC)</c>, <c>CenterCrop</c>. Normalise the result with <see cref="Normalizer"/>.
/// </summary>
public static class ImageLoader
{
    /// <summary>The decoded shorter side kept by the fast JPEG path, as a multiple of the resize target.</summary>
    private const int FastPathMinimumRatio = 2;

    /// <summary>File extensions of the formats decoded (JPEG, PNG, WebP, GIF, BMP): what folder walks pick up.</summary>
    public static readonly IReadOnlySet<string> FileExtensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp" };

    /// <summary>The display name of an image that came as bytes without a name.</summary>
    public const string UploadName = "upload";

    /// <summary>
    /// Loads the image file at <paramref name="path"/> and returns its preprocessed crop. Only a regular file is read
    /// (see <see cref="RegularFile"/>), within <see cref="ImageLoadOptions.ReadTimeout"/>.
    /// </summary>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, not a regular file, timed out, empty, not an image, too large, truncated or corrupt.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the file was read.</exception>
    public static RgbImage LoadCrop(string path, PreprocessConfig config, ImageLoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        byte[] encoded;
        try
        {
            encoded = RegularFile.ReadAllBytes(path, RegularFile.DefaultMaxBytes, options.ReadTimeout, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageLoadException($"{path} does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException($"{path} cannot be read: {e.Message}", e);
        }

        return LoadCrop(encoded, path, config, options);
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> and returns its preprocessed crop; <paramref name="displayName"/> (a path,
    /// or <see cref="UploadName"/>) names the image in error messages.
    /// </summary>
    /// <exception cref="ImageLoadException">The bytes are empty, not an image, too large, truncated or corrupt.</exception>
    public static RgbImage LoadCrop(ReadOnlySpan<byte> encoded, string displayName, PreprocessConfig config, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        string name = string.IsNullOrEmpty(displayName) ? UploadName : displayName;
        var filter = (ResampleFilter)config.Resample;

        int? minShorterSide = !options.Exact && config.DoResize
            ? config.ShortestEdge * FastPathMinimumRatio
            : null;
        var decoded = ImageDecoder.Decode(encoded, name, options.MaxPixels, minShorterSide);

        var pixels = decoded.Pixels;
        if (options.ApplyExifOrientation)
        {
            pixels = ExifOrientation.Apply(pixels, decoded.Origin);
        }

        if (config.DoResize)
        {
            // A very thin image (9 × 11,000,000 passes the decode limit) would resize to billions of pixels.
            var longer = (long)config.ShortestEdge * Math.Max(pixels.Width, pixels.Height) / Math.Min(pixels.Width, pixels.Height);
            if (longer * config.ShortestEdge > options.MaxPixels)
            {
                throw new ImageLoadException(
                    $"{name} is {pixels.Width}×{pixels.Height}, too thin: resized to a shorter side of {config.ShortestEdge} it would be {longer} pixels long, over the {options.MaxPixels / 1e6:0.###} megapixel limit");
            }

            var (width, height) = ResizeGeometry.ShortestEdge(pixels.Width, pixels.Height, config.ShortestEdge);
            var mode = options.ConvertToRgbBeforeResize ? ModeAfterRgbConversion(decoded.Mode) : decoded.Mode;
            pixels = PillowResize.Resize(pixels, mode, width, height, filter);
        }

        return config.DoCenterCrop
            ? CenterCrop.Apply(pixels, config.CropWidth, config.CropHeight)
            : CenterCrop.ToRgb(pixels);
    }

    // convert("RGB") before the resize: colour modes become RGB (alpha ignored, palettes already expanded by the
    // decoder); grey stays one channel, which resamples to the same values as its three equal RGB channels.
    private static PillowMode ModeAfterRgbConversion(PillowMode mode) =>
        mode is PillowMode.Grey or PillowMode.Bilevel ? PillowMode.Grey : PillowMode.Rgb;
}
