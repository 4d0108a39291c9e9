namespace ClipSearch.Core.Imaging;

/// <summary>An 8-bit RGB image, pixels interleaved row by row (R, G, B, R, G, B, …), no padding.</summary>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied), which must hold 3 × width × height bytes.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != 3L * width * height)
        {
            throw new ArgumentException(
                $"An RGB image of {width}×{height} needs {3L * width * height} bytes, not {pixels.LongLength}.",
                nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels, 3 × <see cref="Width"/> × <see cref="Height"/> bytes, RGB interleaved, rows top to bottom.</summary>
    public byte[] Pixels { get; }
}
