using SkiaSharp;

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

    /// <summary>Writes the image as an 8-bit RGB PNG (through Skia), replacing <paramref name="path"/>.</summary>
    public void SaveAsPng(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var rgba = new byte[4 * Width * Height];
        for (int i = 0, j = 0; i < Pixels.Length; i += 3, j += 4)
        {
            rgba[j] = Pixels[i];
            rgba[j + 1] = Pixels[i + 1];
            rgba[j + 2] = Pixels[i + 2];
            rgba[j + 3] = 255;
        }

        var info = new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        unsafe
        {
            fixed (byte* pointer = rgba)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)pointer, info.RowBytes);
                using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                    ?? throw new InvalidOperationException($"Skia could not encode {path} as PNG.");
                using var file = File.Create(path);
                data.SaveTo(file);
            }
        }
    }
}
