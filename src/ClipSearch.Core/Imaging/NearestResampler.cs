namespace ClipSearch.Core.Imaging;

/// <summary>
/// Pillow's nearest-neighbour resize (<c>_resize</c> → <c>ImagingScaleAffine</c> in libImaging/Geometry.c), used for
/// palette and bilevel images: the source position of output pixel i is the truncation of
/// <c>scale / 2 + i · scale</c>, accumulated by repeated addition in double precision as Pillow does.
/// </summary>
internal static class NearestResampler
{
    public static PixelBuffer Resize(PixelBuffer source, int width, int height)
    {
        if (width == source.Width && height == source.Height)
        {
            return source;
        }

        var columns = SourceIndices(source.Width, width);
        var rows = SourceIndices(source.Height, height);
        var result = PixelBuffer.Allocate(width, height, source.Channels);
        if (source.Channels == 1)
        {
            Copy<byte>(source.Span, source.Width, result.Span, width, columns, rows);
        }
        else
        {
            Copy(
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(source.Span),
                source.Width,
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(result.Span),
                width, columns, rows);
        }

        return result;
    }

    private static int[] SourceIndices(int inSize, int outSize)
    {
        // Pillow's box is floats: (float)inSize - 0f, widened to double, divided by the output size.
        double scale = (double)(float)inSize / outSize;
        double position = scale * 0.5;
        var indices = new int[outSize];
        for (int i = 0; i < outSize; i++, position += scale)
        {
            // Positions are never negative here; Pillow leaves pixels outside the source unwritten, which
            // cannot happen for a full-image resize, but clamp rather than read out of range.
            indices[i] = Math.Min((int)position, inSize - 1);
        }

        return indices;
    }

    private static void Copy<T>(
        ReadOnlySpan<T> source, int sourceWidth, Span<T> destination, int width, int[] columns, int[] rows)
    {
        for (int y = 0; y < rows.Length; y++)
        {
            var input = source.Slice(rows[y] * sourceWidth, sourceWidth);
            var output = destination.Slice(y * width, width);
            for (int x = 0; x < output.Length; x++)
            {
                output[x] = input[columns[x]];
            }
        }
    }
}
