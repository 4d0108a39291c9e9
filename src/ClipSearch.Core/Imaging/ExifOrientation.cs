using System.Runtime.InteropServices;
using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Turns decoded pixels upright from their EXIF orientation, as Pillow's <c>ImageOps.exif_transpose</c> does
/// (orientation 2: mirror, 3: rotate 180°, 4: flip, 5: transpose, 6: rotate 90° clockwise, 7: transverse,
/// 8: rotate 90° anticlockwise). It only moves pixels, so it is exact. The one implementation: the model's crops and the
/// thumbnails both go through it.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>True for the orientations (5–8) that turn an image a quarter turn, so that its width and height trade places.</summary>
    public static bool SwapsAxes(SKEncodedOrigin origin) => origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
        or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>The upright image; <paramref name="source"/> itself when the orientation is the normal one.</summary>
    public static PixelBuffer Apply(PixelBuffer source, SKEncodedOrigin origin)
    {
        if (IsUpright(origin))
        {
            return source;
        }

        var map = Mapping(origin, source.Width, source.Height);
        var result = map.SwapsAxes
            ? PixelBuffer.Allocate(source.Height, source.Width, source.Channels)
            : PixelBuffer.Allocate(source.Width, source.Height, source.Channels);
        if (source.Channels == 1)
        {
            Remap<byte>(source.Span, source.Width, result.Span, result.Width, result.Height, map);
        }
        else
        {
            Remap<uint>(MemoryMarshal.Cast<byte, uint>(source.Span), source.Width, MemoryMarshal.Cast<byte, uint>(result.Span), result.Width, result.Height, map);
        }

        return result;
    }

    /// <summary>
    /// The upright bitmap (a new one, same colour and alpha type), as <see cref="Apply(PixelBuffer, SKEncodedOrigin)"/>
    /// moves pixels; <paramref name="source"/> itself when the orientation is the normal one. For thumbnails.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not 4 bytes per pixel with unpadded rows.</exception>
    public static unsafe SKBitmap Apply(SKBitmap source, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (IsUpright(origin))
        {
            return source;
        }

        if (source.BytesPerPixel != 4 || source.RowBytes != 4 * source.Width)
        {
            throw new ArgumentException("The bitmap must have 4 bytes per pixel and unpadded rows.", nameof(source));
        }

        var map = Mapping(origin, source.Width, source.Height);
        var (width, height) = map.SwapsAxes ? (source.Height, source.Width) : (source.Width, source.Height);
        var result = new SKBitmap(new SKImageInfo(width, height, source.ColorType, source.AlphaType));
        var from = new ReadOnlySpan<uint>((void*)source.GetPixels(), source.Width * source.Height);
        var to = new Span<uint>((void*)result.GetPixels(), width * height);
        Remap(from, source.Width, to, width, height, map);
        GC.KeepAlive(source);
        GC.KeepAlive(result);
        return result;
    }

    private static bool IsUpright(SKEncodedOrigin origin) => origin is SKEncodedOrigin.TopLeft or (SKEncodedOrigin)0;

    /// <summary>
    /// For each output pixel (x', y'), the source pixel it comes from, as (x, y) = origin + x'·stepX + y'·stepY in
    /// source coordinates; written as a start offset and two steps in source pixels.
    /// </summary>
    private static Map Mapping(SKEncodedOrigin origin, int width, int height) => origin switch
    {
        SKEncodedOrigin.TopRight => new(false, width - 1, 0, -1, 0, 0, 1),              // 2: mirror left-right
        SKEncodedOrigin.BottomRight => new(false, width - 1, height - 1, -1, 0, 0, -1), // 3: rotate 180°
        SKEncodedOrigin.BottomLeft => new(false, 0, height - 1, 1, 0, 0, -1),           // 4: flip top-bottom
        SKEncodedOrigin.LeftTop => new(true, 0, 0, 0, 1, 1, 0),                         // 5: transpose
        SKEncodedOrigin.RightTop => new(true, 0, height - 1, 0, -1, 1, 0),              // 6: rotate 90° clockwise
        SKEncodedOrigin.RightBottom => new(true, width - 1, height - 1, 0, -1, -1, 0),  // 7: transverse
        SKEncodedOrigin.LeftBottom => new(true, width - 1, 0, 0, 1, -1, 0),             // 8: rotate 90° anticlockwise
        _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "Not an EXIF orientation."),
    };

    private static void Remap<T>(ReadOnlySpan<T> source, int sourceWidth, Span<T> destination, int width, int height, Map map)
    {
        int stepPerOutX = map.DxPerOutX + (map.DyPerOutX * sourceWidth);
        int stepPerOutY = map.DxPerOutY + (map.DyPerOutY * sourceWidth);
        int rowStart = map.StartX + (map.StartY * sourceWidth);
        for (int y = 0; y < height; y++, rowStart += stepPerOutY)
        {
            var row = destination.Slice(y * width, width);
            int index = rowStart;
            for (int x = 0; x < row.Length; x++, index += stepPerOutX)
            {
                row[x] = source[index];
            }
        }
    }

    private readonly record struct Map(bool SwapsAxes, int StartX, int StartY, int DxPerOutX, int DyPerOutX, int DxPerOutY, int DyPerOutY);
}
