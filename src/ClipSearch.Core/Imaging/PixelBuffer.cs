namespace ClipSearch.Core.Imaging;

/// <summary>
/// An 8-bit image in memory between the stages: one channel (grey) or four (RGBA, as Pillow stores RGB, RGBA, LA
/// and expanded palettes), rows top to bottom with no padding.
/// </summary>
internal sealed class PixelBuffer
{
    public PixelBuffer(int width, int height, int channels, byte[] data)
    {
        if (channels is not (1 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "A pixel buffer has 1 or 4 channels.");
        }

        if (data.LongLength < (long)width * height * channels)
        {
            throw new ArgumentException("The pixel data is shorter than width × height × channels.", nameof(data));
        }

        Width = width;
        Height = height;
        Channels = channels;
        Data = data;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>1 (grey) or 4 (R, G, B, A).</summary>
    public int Channels { get; }

    /// <summary>Bytes per row: <see cref="Width"/> × <see cref="Channels"/>.</summary>
    public int Stride => Width * Channels;

    public byte[] Data { get; }

    /// <summary>A buffer whose contents are not cleared (every byte is written by its producer).</summary>
    public static PixelBuffer Allocate(int width, int height, int channels) =>
        new(width, height, channels, GC.AllocateUninitializedArray<byte>(checked(width * height * channels)));
}
