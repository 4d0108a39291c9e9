using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>An image as decoded: its pixels, the Pillow mode they are in, and its EXIF orientation.</summary>
internal sealed record DecodedImage(PixelBuffer Pixels, PillowMode Mode, SKEncodedOrigin Origin, int ScaleDenominator) : IDisposable
{
    /// <summary>Frees the pixels.</summary>
    public void Dispose() => Pixels.Dispose();
}

/// <summary>
/// What decoding an image will make, read from its header before any pixel is decoded: the size it is decoded at,
/// the buffer's channels, its Pillow mode and EXIF orientation, and what the codec holds meanwhile.
/// </summary>
/// <param name="Width">Decoded width (the file's, or reduced by the JPEG DCT scale).</param>
/// <param name="Height">Decoded height.</param>
/// <param name="OneChannel">Decoded into one channel directly (a grey source Skia hands over as grey).</param>
/// <param name="Mode">The file's Pillow mode.</param>
/// <param name="Origin">The EXIF orientation.</param>
/// <param name="ScaleDenominator">1, or 2, 4, 8 for a reduced JPEG decode.</param>
/// <param name="CodecBytes">What the codec holds while it decodes besides the output (see <see cref="CodecMemory"/>).</param>
internal sealed record DecodePlan(int Width, int Height, bool OneChannel, PillowMode Mode, SKEncodedOrigin Origin, int ScaleDenominator, long CodecBytes)
{
    /// <summary>Channels of the decoded image once the decoder returns it (grey decoded as RGBA is reduced to one).</summary>
    public int Channels => OneChannel || IsGrey ? 1 : 4;

    /// <summary>
    /// The most bytes the decoder holds at once: the buffer it decodes into, plus the one-channel copy of a grey
    /// image Skia could only hand over as RGBA, plus the codec's own buffers (it lives until both are made).
    /// </summary>
    public long PeakBytes => CodecBytes + (OneChannel
        ? PixelBuffer.BytesFor(Width, Height, 1)
        : PixelBuffer.BytesFor(Width, Height, 4) + (IsGrey ? PixelBuffer.BytesFor(Width, Height, 1) : 0));

    private bool IsGrey => Mode is PillowMode.Grey or PillowMode.Bilevel;
}

/// <summary>
/// Decodes JPEG, PNG, WebP, GIF (first frame) and BMP with Skia's codecs, and HEIC/HEIF, AVIF, TIFF, JPEG XL and
/// camera raw files (their embedded preview JPEG, through Skia, else their raw data) with <see cref="MagickDecoder"/>,
/// without any colour-space conversion (Pillow applies none), into the layout the Pillow mode of the file calls for.
/// </summary>
internal static class ImageDecoder
{
    private static readonly float[] _reducedDctScales = [1f / 8, 1f / 4, 1f / 2];

    /// <summary>
    /// What <see cref="Decode"/> will make of <paramref name="encoded"/> (size, channels, orientation), from its
    /// header alone: the checks on emptiness, format and size are made here, before any pixel is decoded.
    /// </summary>
    /// <param name="encoded">The file, or only its head (<paramref name="isHead"/>).</param>
    /// <param name="name">Names the image in messages.</param>
    /// <param name="maxPixels">Larger images are refused.</param>
    /// <param name="minShorterSide">See <see cref="Decode"/>.</param>
    /// <param name="isHead">
    /// True: <paramref name="encoded"/> is the start of a longer file; null is returned when the header does not
    /// end within it (more of the file is needed), rather than an error.
    /// </param>
    /// <exception cref="ImageLoadException">Empty, not an image, over <paramref name="maxPixels"/>, or a header that cannot be read.</exception>
    public static unsafe DecodePlan? Probe(ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide, bool isHead = false)
    {
        CheckNotEmpty(encoded, name);
        var format = ImageFormats.Sniff(encoded, name);
        if (format == ImageFormat.CameraRaw)
        {
            return isHead ? null : ProbeRaw(encoded, name, maxPixels, minShorterSide);
        }

        if (format is { } other && other.DecodedByMagick())
        {
            return MagickDecoder.Probe(encoded, other, name, maxPixels, isHead);
        }

        fixed (byte* pinned = encoded)
        {
            using var data = Wrap(pinned, encoded.Length);
            using var codec = SKCodec.Create(data);
            if (codec is null && isHead && format is not null)
            {
                return null;
            }

            return Plan(codec ?? throw CodecError(encoded, name), encoded, name, maxPixels, minShorterSide);
        }
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/>. When <paramref name="minShorterSide"/> is given and the image is a JPEG,
    /// it is decoded at the smallest DCT scale (1/8, 1/4, 1/2) whose shorter side is still at least that long.
    /// The caller owns (and disposes) the result.
    /// </summary>
    /// <exception cref="ImageLoadException">Empty, not an image, over <see cref="ImageLoadOptions.MaxPixels"/>, truncated or corrupt.</exception>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        CheckNotEmpty(encoded, name);
        var format = ImageFormats.Sniff(encoded, name);
        if (format == ImageFormat.CameraRaw)
        {
            var raw = CameraRawFile.Open(encoded, name);
            if (raw.Preview is null)
            {
                return MagickDecoder.Decode(encoded, ImageFormat.CameraRaw, name, maxPixels);
            }

            // The preview is stored as the sensor saw it: the raw file's orientation turns it upright.
            var preview = DecodeSkia(raw.Preview, name, maxPixels, minShorterSide);
            return preview with { Origin = raw.Origin };
        }

        return format is { } other && other.DecodedByMagick()
            ? MagickDecoder.Decode(encoded, other, name, maxPixels)
            : DecodeSkia(encoded, name, maxPixels, minShorterSide);
    }

    // A raw file's plan: its preview's, turned as the raw file is, and the preview's bytes held while it decodes;
    // without a preview, the plan of developing it.
    private static DecodePlan ProbeRaw(ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        var raw = CameraRawFile.Open(encoded, name);
        if (raw.Preview is null)
        {
            return MagickDecoder.Probe(encoded, ImageFormat.CameraRaw, name, maxPixels, isHead: false)!;
        }

        var plan = Probe(raw.Preview, name, maxPixels, minShorterSide)!;
        return plan with { Origin = raw.Origin, CodecBytes = plan.CodecBytes + raw.Preview.Length };
    }

    private static unsafe DecodedImage DecodeSkia(ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        fixed (byte* pinned = encoded)
        {
            using var data = Wrap(pinned, encoded.Length);
            using var codec = CreateCodec(data, encoded, name);
            return DecodeWith(codec, encoded, name, maxPixels, minShorterSide);
        }
    }

    private static DecodedImage DecodeWith(SKCodec codec, ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        var plan = Plan(codec, encoded, name, maxPixels, minShorterSide);
        int width = plan.Width;
        int height = plan.Height;

        // Grey sources that Skia can hand over as one channel are decoded so; everything else as unpremultiplied
        // RGBA, which keeps the colour of transparent pixels as stored (Pillow keeps it too).
        bool oneChannel = plan.OneChannel;
        var target = oneChannel
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if ((long)target.RowBytes * height > Array.MaxLength)
        {
            throw new ImageLoadException($"{name} is {codec.Info.Width}×{codec.Info.Height}, too large to decode in memory");
        }

        var pixels = PixelBuffer.Allocate(width, height, oneChannel ? 1 : 4);
        try
        {
            SKCodecResult result;
            unsafe
            {
                fixed (byte* destination = pixels.Span)
                {
                    result = codec.GetPixels(target, (IntPtr)destination, target.RowBytes, SKCodecOptions.Default);
                }
            }

            switch (result)
            {
                case SKCodecResult.Success:
                    break;
                case SKCodecResult.IncompleteInput:
                case SKCodecResult.ErrorInInput:
                    throw new ImageLoadException($"{name} is truncated or corrupt");
                default:
                    throw new ImageLoadException($"{name} could not be decoded ({codec.EncodedFormat}: {result})");
            }

            if (!oneChannel && PillowModeSniffer.GifTransparentFill(encoded) is { } fill)
            {
                FillTransparent(pixels, fill);
            }

            if (!oneChannel && plan.Channels == 1)
            {
                var grey = FirstChannel(pixels);
                pixels.Dispose();
                pixels = grey;
            }

            return new DecodedImage(pixels, plan.Mode, plan.Origin, plan.ScaleDenominator);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    private static void CheckNotEmpty(ReadOnlySpan<byte> encoded, string name)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageLoadException($"{name} is empty");
        }
    }

    // The encoded bytes as Skia data without a copy (they stay pinned while the codec reads them): a 50 MB upload
    // is not held twice while it decodes.
    private static unsafe SKData Wrap(byte* pinned, int length) => SKData.Create((IntPtr)pinned, length);

    private static SKCodec CreateCodec(SKData data, ReadOnlySpan<byte> encoded, string name) =>
        SKCodec.Create(data) ?? throw CodecError(encoded, name);

    private static ImageLoadException CodecError(ReadOnlySpan<byte> encoded, string name) =>
        new(ImageFormats.Sniff(encoded) is not null
            ? $"{name} is truncated or corrupt (its header cannot be read)"
            : $"{name} is not an image (or an unsupported format)");

    private static DecodePlan Plan(SKCodec codec, ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        var info = codec.Info;
        CheckSize(info.Width, info.Height, name, maxPixels);
        var mode = PillowModeSniffer.FromHeader(encoded) ?? ModeFromSkia(info);
        var (width, height, denominator) = ChooseScale(codec, minShorterSide);
        bool oneChannel = info.ColorType == SKColorType.Gray8 && mode is PillowMode.Grey or PillowMode.Bilevel;
        var codecBytes = CodecMemory.Bytes(encoded, codec.EncodedFormat, info.Width, info.Height);
        return new DecodePlan(width, height, oneChannel, mode, codec.EncodedOrigin, denominator, codecBytes);
    }

    internal static void CheckSize(int width, int height, string name, long maxPixels)
    {
        long pixels = (long)width * height;
        if (width <= 0 || height <= 0)
        {
            throw new ImageLoadException($"{name} has no pixels ({width}×{height})");
        }

        if (pixels > maxPixels)
        {
            throw new ImageLoadException(
                $"{name} is {width}×{height} = {Megapixels(pixels)} megapixels, over the {Megapixels(maxPixels)} megapixel limit");
        }
    }

    private static string Megapixels(long pixels) =>
        (pixels / 1e6).ToString(pixels >= 10_000_000 ? "0" : "0.######", System.Globalization.CultureInfo.InvariantCulture);

    // JPEG: grey is "L", YCbCr is "RGB" (CMYK JPEGs, "CMYK" in Pillow, arrive here already converted by Skia);
    // WebP and others: "RGBA" when the image has alpha, else "RGB".
    private static PillowMode ModeFromSkia(SKImageInfo info)
    {
        if (info.ColorType == SKColorType.Gray8)
        {
            return PillowMode.Grey;
        }

        return info.AlphaType == SKAlphaType.Opaque ? PillowMode.Rgb : PillowMode.Rgba;
    }

    private static (int Width, int Height, int Denominator) ChooseScale(SKCodec codec, int? minShorterSide)
    {
        var info = codec.Info;
        if (minShorterSide is int minimum && codec.EncodedFormat == SKEncodedImageFormat.Jpeg)
        {
            foreach (float scale in _reducedDctScales)
            {
                var size = codec.GetScaledDimensions(scale);
                if (Math.Min(size.Width, size.Height) >= minimum && size.Width < info.Width)
                {
                    return (size.Width, size.Height, (int)MathF.Round(1 / scale));
                }
            }
        }

        return (info.Width, info.Height, 1);
    }

    // Skia decodes a GIF's transparent pixels as (0, 0, 0, 0); Pillow keeps their palette colour.
    private static void FillTransparent(PixelBuffer rgba, (byte R, byte G, byte B) colour)
    {
        var data = rgba.Span.Slice(0, rgba.Width * rgba.Height * 4);
        for (int i = 0; i < data.Length; i += 4)
        {
            if (data[i + 3] == 0)
            {
                data[i] = colour.R;
                data[i + 1] = colour.G;
                data[i + 2] = colour.B;
            }
        }
    }

    private static PixelBuffer FirstChannel(PixelBuffer rgba)
    {
        var grey = PixelBuffer.Allocate(rgba.Width, rgba.Height, 1);
        var source = rgba.Span;
        var destination = grey.Span;
        for (int i = 0, j = 0; j < destination.Length; i += 4, j++)
        {
            destination[j] = source[i];
        }

        return grey;
    }
}
