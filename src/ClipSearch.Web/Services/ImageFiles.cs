using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using SkiaSharp;

namespace ClipSearch.Web.Services;

/// <summary>An uploaded file: its name as the browser sent it and its bytes.</summary>
/// <param name="FileName">The file name (display only; never used as a path).</param>
/// <param name="Bytes">The encoded image.</param>
public sealed record Upload(string FileName, byte[] Bytes);

/// <summary>Thumbnails, PNG encoding of crops and content types, through Skia.</summary>
public static class ImageFiles
{
    /// <summary>Longest side of a thumbnail.</summary>
    public const int ThumbnailSide = 320;

    private const int ThumbnailQuality = 82;

    /// <summary>Largest image decoded for a thumbnail (as the model's loader allows by default).</summary>
    private const long MaxPixels = 100_000_000;

    /// <summary>The MIME type of an encoded image (image/jpeg, image/png, …).</summary>
    /// <exception cref="ImageLoadException">The bytes are not an image Skia can read.</exception>
    public static string ContentType(byte[] encoded, string name)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded))
            ?? throw new ImageLoadException($"{name} is not an image (JPEG, PNG, WebP, GIF or BMP).");
        return codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Jpeg => "image/jpeg",
            SKEncodedImageFormat.Png => "image/png",
            SKEncodedImageFormat.Webp => "image/webp",
            SKEncodedImageFormat.Gif => "image/gif",
            SKEncodedImageFormat.Bmp => "image/bmp",
            var other => throw new ImageLoadException($"{name} is a {other} image, which ClipSearch does not take."),
        };
    }

    /// <summary>A JPEG at most <see cref="ThumbnailSide"/> pixels on its longer side, upright per EXIF.</summary>
    public static byte[] Thumbnail(byte[] encoded, string name)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded))
            ?? throw new ImageLoadException($"{name} is not an image (JPEG, PNG, WebP, GIF or BMP).");
        if ((long)codec.Info.Width * codec.Info.Height > MaxPixels)
        {
            throw new ImageLoadException($"{name} is {codec.Info.Width}×{codec.Info.Height} pixels; the limit is {MaxPixels / 1_000_000} megapixels.");
        }

        using var decoded = DecodeNear(codec, 2 * ThumbnailSide)
            ?? throw new ImageLoadException($"{name} is truncated or corrupt.");
        var scale = Math.Min(1.0, ThumbnailSide / (double)Math.Max(decoded.Width, decoded.Height));
        var width = Math.Max(1, (int)Math.Round(decoded.Width * scale));
        var height = Math.Max(1, (int)Math.Round(decoded.Height * scale));
        using var resized = decoded.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var upright = Orient(resized, codec.EncodedOrigin);
        using var data = upright.Encode(SKEncodedImageFormat.Jpeg, ThumbnailQuality);
        return data.ToArray();
    }

    /// <summary>The crop the model sees, as PNG.</summary>
    public static byte[] Png(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = new byte[4 * image.Width * image.Height];
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            rgba[j] = image.Pixels[i];
            rgba[j + 1] = image.Pixels[i + 1];
            rgba[j + 2] = image.Pixels[i + 2];
            rgba[j + 3] = 255;
        }

        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A data: URL for an image (for thumbnails inside the UI).</summary>
    public static string DataUrl(byte[] bytes, string contentType) => $"data:{contentType};base64,{Convert.ToBase64String(bytes)}";

    // JPEG and WebP decode at a reduced scale directly (far less memory for large photos); others decode in full.
    private static SKBitmap? DecodeNear(SKCodec codec, int side)
    {
        var scale = Math.Min(1f, side / (float)Math.Max(codec.Info.Width, codec.Info.Height));
        var size = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is SKCodecResult.Success or SKCodecResult.IncompleteInput)
        {
            return bitmap;
        }

        bitmap.Dispose();
        return SKBitmap.Decode(codec);
    }

    private static SKBitmap Orient(SKBitmap bitmap, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default)
        {
            return bitmap.Copy();
        }

        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var result = new SKBitmap(swap ? bitmap.Height : bitmap.Width, swap ? bitmap.Width : bitmap.Height);
        using var canvas = new SKCanvas(result);
        var (w, h) = (result.Width, result.Height);
        // x' = scaleX·x + skewX·y + transX, y' = skewY·x + scaleY·y + transY (EXIF orientations 2–8).
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, w, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, w, -1, 0, h, 0, 0, 1),
            _ => new SKMatrix(0, 1, 0, -1, 0, h, 0, 0, 1),
        };
        canvas.SetMatrix(matrix);
        canvas.DrawBitmap(bitmap, 0, 0);
        return result;
    }
}
