namespace ClipSearch.Core.Imaging;

/// <summary>
/// torchvision's <c>ToTensor</c> and <c>Normalize</c>: each 8-bit value v becomes <c>(v / 255 - mean) / std</c>
/// computed in float32 as PyTorch does it, laid out channel-major (CHW: all R, then all G, then all B).
/// </summary>
public static class Normalizer
{
    private const int Channels = 3;
    private const int Levels = 256;
    private const float ToTensorDivisor = 255f;

    /// <summary>
    /// Writes the 3 × height × width model input for <paramref name="crop"/> into <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 3 × height × width, or the config's mean/std are not three values.</exception>
    public static void ToChw(RgbImage crop, PreprocessConfig config, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(crop);
        ArgumentNullException.ThrowIfNull(config);
        int plane = crop.Width * crop.Height;
        if (destination.Length < Channels * plane)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} floats; a {crop.Width}×{crop.Height} image needs {Channels * plane}.",
                nameof(destination));
        }

        Span<float> table = stackalloc float[Channels * Levels];
        FillTable(config, table);

        var pixels = crop.Pixels;
        var red = destination[..plane];
        var green = destination.Slice(plane, plane);
        var blue = destination.Slice(2 * plane, plane);
        for (int i = 0, p = 0; i < plane; i++, p += 3)
        {
            red[i] = table[pixels[p]];
            green[i] = table[Levels + pixels[p + 1]];
            blue[i] = table[(2 * Levels) + pixels[p + 2]];
        }
    }

    /// <summary>Allocates and returns the 3 × height × width model input for <paramref name="crop"/>.</summary>
    public static float[] ToChw(RgbImage crop, PreprocessConfig config)
    {
        ArgumentNullException.ThrowIfNull(crop);
        var result = new float[Channels * crop.Width * crop.Height];
        ToChw(crop, config, result);
        return result;
    }

    // Every 8-bit value of every channel, mapped once: 768 entries instead of 150,528 divisions.
    private static void FillTable(PreprocessConfig config, Span<float> table)
    {
        if (config.Mean.Count != Channels || config.Std.Count != Channels)
        {
            throw new ArgumentException("The preprocessing config needs three mean and three std values (R, G, B).", nameof(config));
        }

        // torchvision's ToTensor divides by 255 in float32; another rescale factor is a float32 multiplication.
        bool divideBy255 = Math.Abs(config.RescaleFactor - (1.0 / 255.0)) < 1e-12;
        float factor = (float)config.RescaleFactor;
        for (int c = 0; c < Channels; c++)
        {
            float mean = config.Mean[c];
            float std = config.Std[c];
            for (int v = 0; v < Levels; v++)
            {
                float value = v;
                if (config.DoRescale)
                {
                    value = divideBy255 ? value / ToTensorDivisor : value * factor;
                }

                if (config.DoNormalize)
                {
                    value = (value - mean) / std;
                }

                table[(c * Levels) + v] = value;
            }
        }
    }
}
