using ImageMagick;
using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Decodes the formats Skia has no codec for — HEIC/HEIF (libheif + libde265), AVIF (libheif + an AV1 decoder), TIFF
/// (libtiff; the first page), JPEG XL (libjxl) and camera raw files developed from their raw data (libraw) — through
/// ImageMagick (Magick.NET, whose natives come from NuGet), into the layout <see cref="ImageDecoder"/> makes: one
/// channel for grey, else RGBA, 8 bits a sample (16-bit samples scaled), without any colour-space conversion.
/// </summary>
/// <remarks>
/// ImageMagick is always told the format (sniffed by <see cref="ImageFormats"/>): it never guesses one from the bytes,
/// so no coder ClipSearch did not choose (SVG, MVG, PostScript…) ever reads a file. Its pixel cache never goes to disk
/// (<see cref="ResourceLimits.Disk"/> is 0): the pixels a decode holds are in memory, counted by <see cref="CodecBytes"/>.
/// ImageMagick's HEIF and raw readers take files, not memory: for those the encoded bytes are written to ImageMagick's
/// temporary folder (<c>MAGICK_TEMPORARY_PATH</c>, else <c>/tmp</c>) while they are read, and removed after.
/// </remarks>
internal static class MagickDecoder
{
    /// <summary>Rows exported from ImageMagick's pixel cache at once: a strip of at most a few megabytes.</summary>
    private const int StripBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Bytes a pixel a decode holds at its peak besides the RGBA (or grey) buffer it hands over, by format: enough for
    /// the format's most demanding layout measured (bench/formats.sh; bench/README.md, "Image formats": the resident
    /// growth of one crop, in bytes a pixel with the buffer's 4), for HEIF, AVIF and TIFF by 7–10 %. That is
    /// ImageMagick's pixel cache (3 or 4 in this 8-bit build), the managed arrays <see cref="Export"/> copies its
    /// strips through until the collector takes them back (up to the buffer's size), and what the codec library holds
    /// meanwhile. HEIF: libde265's picture, libheif's copy of it and the interleaved RGB it converts it to, 16-bit
    /// above 8 bits (measured 10.1 for 8-bit 4:2:0, 11.6 for 10-bit 4:2:0, 11.6–15.0 for 8-bit 4:4:4, 20.2 for 10-bit
    /// 4:4:4); AVIF: the same with the AV1 decoder's frame (16.2, 19.6, 20.4, 26.1); TIFF: libtiff's strips and
    /// ImageMagick's strip buffers (11.1–11.3 for RGB, in strips or one, 12.3 for RGBA and CMYK, 3.3 for grey); JPEG
    /// XL: libjxl's planes and output (8.9 for 8-bit lossy, 11.2 lossless, 21.3 for 16-bit lossless); raw files:
    /// libraw's raw data, its 16-bit four-channel image and the 16-bit RGB it makes from it (up to 16, not measured).
    /// </summary>
    private static int CacheBytesPerPixel(ImageFormat format) => format switch
    {
        ImageFormat.Heif => 18,
        ImageFormat.Avif => 24,
        ImageFormat.JpegXl => 4 + 20,
        ImageFormat.CameraRaw => 4 + 16,
        _ => 9,
    };

    static MagickDecoder()
    {
        // Never a pixel cache in a temporary file (a full disk, a slow one): a decode that does not fit in memory fails.
        ResourceLimits.Disk = 0;
        ResourceLimits.Memory = ulong.MaxValue / 2;
        ResourceLimits.Area = ulong.MaxValue / 2;
        ResourceLimits.Width = int.MaxValue;
        ResourceLimits.Height = int.MaxValue;
    }


    /// <summary>
    /// What decoding <paramref name="encoded"/> makes, from its header (ImageMagick's "ping"): null when
    /// <paramref name="isHead"/> and the header cannot be read from these bytes alone.
    /// </summary>
    /// <exception cref="ImageLoadException">Over <paramref name="maxPixels"/>, or a header that cannot be read.</exception>
    public static DecodePlan? Probe(ReadOnlySpan<byte> encoded, ImageFormat format, string name, long maxPixels, bool isHead)
    {
        using var image = new MagickImage();
        try
        {
            image.Ping(encoded, Settings(format));
        }
        catch (MagickException e)
        {
            if (isHead)
            {
                return null;
            }

            throw Corrupt(name, format, e);
        }

        var plan = PlanOf(image, format, name, maxPixels);

        // A turned TIFF is read from an upright copy of its bytes (see TiffDirectory.WithoutOrientation).
        return format == ImageFormat.Tiff && TiffDirectory.OrientationOf(encoded) != 1 ? plan with { CodecBytes = plan.CodecBytes + encoded.Length } : plan;
    }

    /// <summary>Decodes <paramref name="encoded"/>, of <paramref name="format"/>. The caller owns (and disposes) the result.</summary>
    /// <exception cref="ImageLoadException">Over <paramref name="maxPixels"/>, truncated or corrupt.</exception>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, ImageFormat format, string name, long maxPixels)
    {
        // The size is checked before a pixel is decoded: ImageMagick reads the header first (a ping), then the image.
        var header = Probe(encoded, format, name, maxPixels, isHead: false)!;
        var (_, upright) = format == ImageFormat.Tiff ? TiffDirectory.WithoutOrientation(encoded) : (1, null);
        using var image = new MagickImage();
        try
        {
            image.Read(upright is null ? encoded : upright, Settings(format));
        }
        catch (MagickException e) when (e is not MagickWarningException)
        {
            throw Corrupt(name, format, e);
        }

        var plan = PlanOf(image, format, name, maxPixels) with { Origin = header.Origin };
        return new DecodedImage(Export(image, plan), plan.Mode, plan.Origin, 1);
    }

    /// <summary>What a decode of <paramref name="format"/> holds besides its output, for a <paramref name="width"/> × <paramref name="height"/> image.</summary>
    public static long CodecBytes(ImageFormat format, int width, int height) =>
        ((long)CacheBytesPerPixel(format) * width * height) + (CodecMemory.RowAllowanceRows * 8L * width) + CodecMemory.FixedAllowanceBytes;

    /// <summary>How ImageMagick reads <paramref name="format"/>: that coder only, the first frame only.</summary>
    internal static MagickReadSettings Settings(ImageFormat format)
    {
        var settings = new MagickReadSettings
        {
            Format = format switch
            {
                ImageFormat.Heif => MagickFormat.Heic,
                ImageFormat.Avif => MagickFormat.Avif,
                ImageFormat.Tiff => MagickFormat.Tiff,
                ImageFormat.JpegXl => MagickFormat.Jxl,
                ImageFormat.CameraRaw => MagickFormat.Dng,
                _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
            },
            FrameIndex = 0,
            FrameCount = 1,
        };
        if (format == ImageFormat.CameraRaw)
        {
            // libraw's linear interpolation: the fastest; the image is reduced to the model's size anyway.
            settings.SetDefine(MagickFormat.Dng, "interpolation-quality", "0");
        }

        return settings;
    }

    /// <summary>An ImageMagick failure, in a message that names the image and the format.</summary>
    internal static ImageLoadException Corrupt(string name, ImageFormat format, MagickException e)
    {
        // ImageMagick ends its messages with where it failed ("`TIFFFetchDirectory' @ error/tiff.c/…"): only the reason is kept.
        var reason = e.Message.Split('\n')[0];
        foreach (var marker in new[] { " `", " @ " })
        {
            if (reason.IndexOf(marker, StringComparison.Ordinal) is > 0 and var at)
            {
                reason = reason[..at];
            }
        }

        reason = reason.Trim().TrimEnd('.');
        if (reason.Length > 200)
        {
            reason = reason[..200] + "…";
        }

        return new ImageLoadException($"{name} is truncated or corrupt ({format.Name()}: {reason})", e);
    }

    /// <summary>The EXIF-style orientation ImageMagick read, as Skia names it (the same numbers).</summary>
    internal static SKEncodedOrigin OriginOf(Orientation orientation) =>
        orientation is >= Orientation.TopLeft and <= Orientation.LeftBottom ? (SKEncodedOrigin)(int)orientation : SKEncodedOrigin.TopLeft;

    private static DecodePlan PlanOf(MagickImage image, ImageFormat format, string name, long maxPixels)
    {
        var width = checked((int)image.Width);
        var height = checked((int)image.Height);
        ImageDecoder.CheckSize(width, height, name, maxPixels);
        var mode = ModeOf(image, format);
        bool oneChannel = mode is PillowMode.Grey or PillowMode.Bilevel;

        // HEIF and AVIF: libheif has already applied the container's rotation and mirror (irot, imir). TIFF, JPEG
        // XL and raw files: the orientation tag, applied as EXIF's.
        var origin = format is ImageFormat.Heif or ImageFormat.Avif ? SKEncodedOrigin.TopLeft : OriginOf(image.Orientation);
        return new DecodePlan(width, height, oneChannel, mode, origin, 1, CodecBytes(format, width, height));
    }

    // Pillow's modes: grey "L" (bilevel "1" for a 1-bit TIFF, resized with nearest), "LA", "P" for a palette TIFF
    // (resized with nearest), "RGBA" with alpha, else "RGB" (CMYK is converted to RGB first, by Pillow's formula).
    private static PillowMode ModeOf(MagickImage image, ImageFormat format)
    {
        if (image.ColorSpace == ColorSpace.Gray || image.ColorType is ColorType.Grayscale or ColorType.GrayscaleAlpha or ColorType.Bilevel)
        {
            if (image.HasAlpha)
            {
                return PillowMode.GreyAlpha;
            }

            return format == ImageFormat.Tiff && image.Depth == 1 ? PillowMode.Bilevel : PillowMode.Grey;
        }

        if (format == ImageFormat.Tiff && image.GetAttribute("tiff:photometric") == "palette")
        {
            return PillowMode.Palette;
        }

        return image.HasAlpha && image.ColorSpace != ColorSpace.CMYK ? PillowMode.Rgba : PillowMode.Rgb;
    }

    private static PixelBuffer Export(MagickImage image, DecodePlan plan)
    {
        int width = plan.Width;
        int height = plan.Height;
        bool cmyk = image.ColorSpace == ColorSpace.CMYK;
        int channels = plan.OneChannel ? 1 : 4;
        var mapping = plan.OneChannel ? "R" : cmyk ? "CMYK" : "RGBA";
        var pixels = PixelBuffer.Allocate(width, height, channels);
        try
        {
            using var cache = image.GetPixelsUnsafe();
            int rowBytes = width * channels;
            int rows = Math.Max(1, StripBytes / Math.Max(1, rowBytes));
            for (int y = 0; y < height; y += rows)
            {
                int count = Math.Min(rows, height - y);
                var strip = cache.ToByteArray(0, y, (uint)width, (uint)count, mapping)
                    ?? throw new ImageLoadException("ImageMagick returned no pixels");
                var destination = pixels.Span.Slice(y * rowBytes, count * rowBytes);
                if (cmyk)
                {
                    CmykToRgba(strip, destination);
                }
                else
                {
                    strip.AsSpan(0, count * rowBytes).CopyTo(destination);
                }
            }

            return pixels;
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    // Pillow's cmyk2rgb (Convert.c): each of R, G, B is (255 − K) − C·(255 − K)/255, rounded as its MULDIV255.
    private static void CmykToRgba(ReadOnlySpan<byte> cmyk, Span<byte> rgba)
    {
        for (int i = 0; i < rgba.Length; i += 4)
        {
            int notK = 255 - cmyk[i + 3];
            rgba[i] = (byte)(notK - MulDiv255(cmyk[i], notK));
            rgba[i + 1] = (byte)(notK - MulDiv255(cmyk[i + 1], notK));
            rgba[i + 2] = (byte)(notK - MulDiv255(cmyk[i + 2], notK));
            rgba[i + 3] = 255;
        }
    }

    private static int MulDiv255(int a, int b)
    {
        int product = (a * b) + 128;
        return ((product >> 8) + product) >> 8;
    }
}
