namespace ClipSearch.Core.Imaging;

/// <summary>Pillow's resampling filters (the numbers are <c>Image.Resampling</c>'s).</summary>
internal enum ResampleFilter
{
    Nearest = 0,
    Lanczos = 1,
    Bilinear = 2,
    Bicubic = 3,
    Box = 4,
    Hamming = 5,
}

/// <summary>
/// The filter windows of one axis of a Pillow resize (libImaging/Resample.c, <c>precompute_coeffs</c> and
/// <c>normalize_coeffs_8bpc</c>, reproduced operation for operation in double precision): for each output pixel
/// the first input pixel, the number of taps, and the weights in 22-bit fixed point.
/// </summary>
internal sealed class ResampleCoefficients
{
    /// <summary>Fractional bits of the fixed-point weights: 32 − 8 (result) − 2 (headroom for overshoot).</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The accumulator's start value: one half in fixed point, so the final shift rounds.</summary>
    public const int RoundingHalf = 1 << (PrecisionBits - 1);

    private const double BicubicA = -0.5;

    private ResampleCoefficients(int outSize, int kernelSize, int[] starts, int[] counts, int[] weights)
    {
        OutSize = outSize;
        KernelSize = kernelSize;
        Starts = starts;
        Counts = counts;
        Weights = weights;
    }

    public int OutSize { get; }

    /// <summary>Weights stored per output pixel (the stride of <see cref="Weights"/>); unused ones are zero.</summary>
    public int KernelSize { get; }

    /// <summary>First input pixel of each output pixel's window.</summary>
    public int[] Starts { get; }

    /// <summary>Number of input pixels in each output pixel's window.</summary>
    public int[] Counts { get; }

    /// <summary>Fixed-point weights, <see cref="KernelSize"/> per output pixel.</summary>
    public int[] Weights { get; }

    /// <summary>The windows for resizing <paramref name="inSize"/> pixels to <paramref name="outSize"/>.</summary>
    public static ResampleCoefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        double filterSupport = Support(filter);

        // Pillow takes the box as floats: (in1 - in0) is a float, then widened; exact for any real image size.
        double scale = (double)(float)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int kernelSize = ((int)Math.Ceiling(support) * 2) + 1;

        var starts = new int[outSize];
        var counts = new int[outSize];
        var weights = new int[checked(outSize * kernelSize)];
        var window = new double[kernelSize];
        double inverseFilterScale = 1.0 / filterScale;

        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;

            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Evaluate(filter, (x + xmin - center + 0.5) * inverseFilterScale);
                window[x] = w;
                sum += w;
            }

            var target = weights.AsSpan(xx * kernelSize, kernelSize);
            for (int x = 0; x < xmax; x++)
            {
                double w = sum != 0.0 ? window[x] / sum : window[x];
                target[x] = ToFixedPoint(w);
            }

            starts[xx] = xmin;
            counts[xx] = Math.Max(xmax, 0);
        }

        return new ResampleCoefficients(outSize, kernelSize, starts, counts, weights);
    }

    /// <summary>The weights repeated four times each (w0 w0 w0 w0 w1 w1 w1 w1 …), for RGBA pixels in vectors.</summary>
    public int[] WeightsPerChannel4()
    {
        var expanded = new int[Weights.Length * 4];
        for (int i = 0; i < Weights.Length; i++)
        {
            expanded.AsSpan(i * 4, 4).Fill(Weights[i]);
        }

        return expanded;
    }

    // Round half away from zero, then truncate, as normalize_coeffs_8bpc does.
    private static int ToFixedPoint(double weight) =>
        weight < 0
            ? (int)(-0.5 + (weight * (1 << PrecisionBits)))
            : (int)(0.5 + (weight * (1 << PrecisionBits)));

    private static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear => 1.0,
        ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a convolution filter."),
    };

    private static double Evaluate(ResampleFilter filter, double x) => filter switch
    {
        ResampleFilter.Bicubic => Bicubic(x),
        ResampleFilter.Bilinear => Bilinear(x),
        ResampleFilter.Box => x > -0.5 && x <= 0.5 ? 1.0 : 0.0,
        ResampleFilter.Hamming => Hamming(x),
        ResampleFilter.Lanczos => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a convolution filter."),
    };

    // Keys' cubic convolution with a = -0.5, written in the same evaluation order as Pillow's bicubic_filter.
    private static double Bicubic(double x)
    {
        x = Math.Abs(x);
        if (x < 1.0)
        {
            return ((((BicubicA + 2.0) * x) - (BicubicA + 3.0)) * x * x) + 1;
        }

        if (x < 2.0)
        {
            return ((((x - 5) * x) + 8) * x - 4) * BicubicA;
        }

        return 0.0;
    }

    private static double Bilinear(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double Hamming(double x)
    {
        x = Math.Abs(x);
        if (x == 0.0)
        {
            return 1.0;
        }

        if (x >= 1.0)
        {
            return 0.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x * (0.54f + (0.46f * Math.Cos(x)));
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
