using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>An image as decoded: its pixels, the Pillow mode they are in, and its EXIF orientation.</summary>
internal sealed record DecodedImage(PixelBuffer Pixels, PillowMode Mode, SKEncodedOrigin Origin, int ScaleDenominator);

/// <summary>
/// Decodes JPEG, PNG, WebP, GIF (first frame) and BMP with Skia's codecs, without any colour-space conversion
/// (Pillow applies none), into the layout the Pillow mode of the file calls for.
/// </summary>
internal static class ImageDecoder
{
    private static readonly float[] _reducedDctScales = [1f / 8, 1f / 4, 1f / 2];

    /// <summary>
    /// Decodes <paramref name="encoded"/>. When <paramref name="minShorterSide"/> is given and the image is a JPEG,
    /// it is decoded at the smallest DCT scale (1/8, 1/4, 1/2) whose shorter side is still at least that long.
    /// </summary>
    /// <exception cref="ImageLoadException">Empty, not an image, over <see cref="ImageLoadOptions.MaxPixels"/>, truncated or corrupt.</exception>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, string name, long maxPixels, int? minShorterSide)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageLoadException($"{name} is empty");
        }

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw new ImageLoadException(PillowModeSniffer.LooksLikeKnownFormat(encoded)
                ? $"{name} is truncated or corrupt (its header cannot be read)"
                : $"{name} is not an image (or an unsupported format)");
        }

        var info = codec.Info;
        CheckSize(info.Width, info.Height, name, maxPixels);

        var mode = PillowModeSniffer.FromHeader(encoded) ?? ModeFromSkia(info);
        var (width, height, denominator) = ChooseScale(codec, minShorterSide);

        // Grey sources that Skia can hand over as one channel are decoded so; everything else as unpremultiplied
        // RGBA, which keeps the colour of transparent pixels as stored (Pillow keeps it too).
        bool oneChannel = info.ColorType == SKColorType.Gray8 && mode is PillowMode.Grey or PillowMode.Bilevel;
        var target = oneChannel
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if ((long)target.RowBytes * height > Array.MaxLength)
        {
            throw new ImageLoadException($"{name} is {info.Width}×{info.Height}, too large to decode in memory");
        }

        var pixels = PixelBuffer.Allocate(width, height, oneChannel ? 1 : 4);
        SKCodecResult result;
        unsafe
        {
            fixed (byte* destination = pixels.Data)
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

        if (!oneChannel && mode is PillowMode.Grey or PillowMode.Bilevel)
        {
            pixels = FirstChannel(pixels);
        }

        return new DecodedImage(pixels, mode, codec.EncodedOrigin, denominator);
    }

    private static void CheckSize(int width, int height, string name, long maxPixels)
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
        var data = rgba.Data.AsSpan(0, rgba.Width * rgba.Height * 4);
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
        var source = rgba.Data;
        var destination = grey.Data;
        for (int i = 0, j = 0; j < destination.Length; i += 4, j++)
        {
            destination[j] = source[i];
        }

        return grey;
    }
}
