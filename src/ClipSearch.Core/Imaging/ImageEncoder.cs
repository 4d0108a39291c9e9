using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>The one place images are encoded (through Skia): PNG for crops, JPEG for thumbnails (PNG where they have alpha).</summary>
public static class ImageEncoder
{
    /// <summary><paramref name="image"/> as an 8-bit RGB PNG.</summary>
    public static unsafe byte[] Png(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var rgba = new byte[4 * image.Width * image.Height];
        var pixels = image.Pixels;
        for (int i = 0, j = 0; i < pixels.Length; i += 3, j += 4)
        {
            rgba[j] = pixels[i];
            rgba[j + 1] = pixels[i + 1];
            rgba[j + 2] = pixels[i + 2];
            rgba[j + 3] = 255;
        }

        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* pointer = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)pointer, info.RowBytes);
            using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                ?? throw new InvalidOperationException("Skia could not encode the image as PNG.");
            return data.ToArray();
        }
    }

    /// <summary><paramref name="bitmap"/> as a PNG (its alpha kept).</summary>
    public static byte[] Png(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("Skia could not encode the image as PNG.");
        return data.ToArray();
    }

    /// <summary><paramref name="bitmap"/> as a JPEG of <paramref name="quality"/> (0–100).</summary>
    public static byte[] Jpeg(SKBitmap bitmap, int quality)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        ArgumentOutOfRangeException.ThrowIfNegative(quality);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new InvalidOperationException("Skia could not encode the image as JPEG.");
        return data.ToArray();
    }
}
