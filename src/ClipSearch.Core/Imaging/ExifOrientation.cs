using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Turns decoded pixels upright from their EXIF orientation, as Pillow's <c>ImageOps.exif_transpose</c> does
/// (orientation 2: mirror, 3: rotate 180°, 4: flip, 5: transpose, 6: rotate 90° clockwise, 7: transverse,
/// 8: rotate 90° anticlockwise). It only moves pixels, so it is exact.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>The upright image; <paramref name="source"/> itself when the orientation is the normal one.</summary>
    public static PixelBuffer Apply(PixelBuffer source, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or (SKEncodedOrigin)0)
        {
            return source;
        }

        bool swapsAxes = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int width = source.Width;
        int height = source.Height;
        var result = swapsAxes
            ? PixelBuffer.Allocate(height, width, source.Channels)
            : PixelBuffer.Allocate(width, height, source.Channels);

        // For each output pixel (x', y'), the source pixel it comes from, as (x, y) = origin + x'·stepX + y'·stepY
        // in source coordinates; written as a start offset and two steps in source pixels.
        (int startX, int startY, int dxPerOutX, int dyPerOutX, int dxPerOutY, int dyPerOutY) = origin switch
        {
            SKEncodedOrigin.TopRight => (width - 1, 0, -1, 0, 0, 1),            // 2: mirror left-right
            SKEncodedOrigin.BottomRight => (width - 1, height - 1, -1, 0, 0, -1), // 3: rotate 180°
            SKEncodedOrigin.BottomLeft => (0, height - 1, 1, 0, 0, -1),         // 4: flip top-bottom
            SKEncodedOrigin.LeftTop => (0, 0, 0, 1, 1, 0),                      // 5: transpose
            SKEncodedOrigin.RightTop => (0, height - 1, 0, -1, 1, 0),           // 6: rotate 90° clockwise
            SKEncodedOrigin.RightBottom => (width - 1, height - 1, 0, -1, -1, 0), // 7: transverse
            SKEncodedOrigin.LeftBottom => (width - 1, 0, 0, 1, -1, 0),          // 8: rotate 90° anticlockwise
            _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "Not an EXIF orientation."),
        };

        if (source.Channels == 1)
        {
            Remap<byte>(source.Span, width, result.Span, result.Width, result.Height,
                startX, startY, dxPerOutX, dyPerOutX, dxPerOutY, dyPerOutY);
        }
        else
        {
            Remap<uint>(
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(source.Span),
                width,
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(result.Span),
                result.Width, result.Height, startX, startY, dxPerOutX, dyPerOutX, dxPerOutY, dyPerOutY);
        }

        return result;
    }

    private static void Remap<T>(
        ReadOnlySpan<T> source, int sourceWidth, Span<T> destination, int width, int height,
        int startX, int startY, int dxPerOutX, int dyPerOutX, int dxPerOutY, int dyPerOutY)
    {
        int stepPerOutX = dxPerOutX + (dyPerOutX * sourceWidth);
        int stepPerOutY = dxPerOutY + (dyPerOutY * sourceWidth);
        int rowStart = startX + (startY * sourceWidth);
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
}
