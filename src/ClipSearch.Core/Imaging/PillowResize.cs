namespace ClipSearch.Core.Imaging;

/// <summary>
/// Pillow's <c>Image.resize(size, resample)</c> in the image's own mode (src/PIL/Image.py): an unchanged size is a
/// copy; palette and bilevel images always use nearest neighbour; RGBA and LA are converted to premultiplied
/// alpha ("RGBa"/"La", with Pillow's rounding) before the convolution and back after; images more than 100 times
/// taller than wide that shrink vertically are resized vertically first.
/// </summary>
internal static class PillowResize
{
    private const int TallImageRatio = 100;

    public static PixelBuffer Resize(PixelBuffer image, PillowMode mode, int width, int height, ResampleFilter filter, bool allowSimd = true)
    {
        if (width == image.Width && height == image.Height)
        {
            return image;
        }

        if (mode is PillowMode.Palette or PillowMode.Bilevel || filter == ResampleFilter.Nearest)
        {
            return NearestResampler.Resize(image, width, height);
        }

        bool premultiplied = mode is PillowMode.Rgba or PillowMode.GreyAlpha;
        var source = premultiplied ? Premultiply(image) : image;
        try
        {
            bool verticalFirst = source.Height > (long)source.Width * TallImageRatio && height < source.Height;
            var resized = PillowResampler.Resize(source, width, height, filter, verticalFirst, allowSimd);
            if (premultiplied)
            {
                Unpremultiply(resized);
            }

            return resized;
        }
        finally
        {
            // The premultiplied copy is this resize's own; the caller's image is left to the caller.
            if (!ReferenceEquals(source, image))
            {
                source.Dispose();
            }
        }
    }

    /// <summary>RGBA → RGBa (libImaging/Convert.c <c>rgbA2rgba</c>): c·a/255 rounded as <c>MULDIV255</c> does.</summary>
    internal static PixelBuffer Premultiply(PixelBuffer rgba)
    {
        var result = PixelBuffer.Allocate(rgba.Width, rgba.Height, 4);
        var source = rgba.Span.Slice(0, rgba.Width * rgba.Height * 4);
        var destination = result.Span;
        for (int i = 0; i < source.Length; i += 4)
        {
            uint alpha = source[i + 3];
            destination[i] = MulDiv255(source[i], alpha);
            destination[i + 1] = MulDiv255(source[i + 1], alpha);
            destination[i + 2] = MulDiv255(source[i + 2], alpha);
            destination[i + 3] = (byte)alpha;
        }

        return result;
    }

    /// <summary>RGBa → RGBA in place (<c>rgba2rgbA</c>): c·255/a truncated and clipped; alpha 0 and 255 left alone.</summary>
    internal static void Unpremultiply(PixelBuffer rgba)
    {
        var data = rgba.Span.Slice(0, rgba.Width * rgba.Height * 4);
        for (int i = 0; i < data.Length; i += 4)
        {
            int alpha = data[i + 3];
            if (alpha is 0 or 255)
            {
                continue;
            }

            data[i] = (byte)Math.Min(255 * data[i] / alpha, 255);
            data[i + 1] = (byte)Math.Min(255 * data[i + 1] / alpha, 255);
            data[i + 2] = (byte)Math.Min(255 * data[i + 2] / alpha, 255);
        }
    }

    private static byte MulDiv255(uint value, uint alpha)
    {
        uint t = (value * alpha) + 128;
        return (byte)(((t >> 8) + t) >> 8);
    }
}
