using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Pillow's convolution resize for 8-bit images (libImaging/Resample.c, <c>ImagingResampleInner</c>): a horizontal
/// pass into an 8-bit intermediate holding only the rows the vertical pass reads, then the vertical pass; a pass
/// is skipped when its dimension does not change. Each output value is
/// <c>clip8((2^21 + Σ pixel·weight) &gt;&gt; 22)</c> in 32-bit integers, so any summation order gives the same
/// bits; the AVX2 paths sum several taps or several output bytes at once and equal the scalar ones exactly.
/// </summary>
internal static class PillowResampler
{
    /// <summary>
    /// Resizes <paramref name="source"/> (1 or 4 channels) to <paramref name="width"/> × <paramref name="height"/>.
    /// <paramref name="verticalFirst"/> runs the vertical pass first, as Pillow does for images over 100 times
    /// taller than wide; <paramref name="allowSimd"/> false forces the scalar code (for tests).
    /// </summary>
    public static PixelBuffer Resize(
        PixelBuffer source, int width, int height, ResampleFilter filter, bool verticalFirst = false, bool allowSimd = true)
    {
        bool needHorizontal = width != source.Width;
        bool needVertical = height != source.Height;
        if (!needHorizontal && !needVertical)
        {
            return source;
        }

        bool simd = allowSimd && Avx2.IsSupported;
        if (verticalFirst && needHorizontal && needVertical)
        {
            // Pillow: two separate resizes, (w, h) → (w, height) → (width, height).
            var vertical = ResampleCoefficients.Compute(source.Height, height, filter);
            using var tall = Vertical(source, 0, vertical, simd);
            var horizontal = ResampleCoefficients.Compute(source.Width, width, filter);
            return Horizontal(tall, 0, tall.Height, horizontal, simd);
        }

        var verticalCoefficients = needVertical ? ResampleCoefficients.Compute(source.Height, height, filter) : null;
        var image = source;
        int firstRow = 0;
        if (needHorizontal)
        {
            var horizontal = ResampleCoefficients.Compute(source.Width, width, filter);
            int lastRow = source.Height;
            if (verticalCoefficients is not null)
            {
                firstRow = verticalCoefficients.Starts[0];
                lastRow = verticalCoefficients.Starts[height - 1] + verticalCoefficients.Counts[height - 1];
            }

            image = Horizontal(source, firstRow, lastRow - firstRow, horizontal, simd);
        }

        if (verticalCoefficients is null)
        {
            return image;
        }

        // The horizontal pass's rows are an intermediate of this resize only: freed as soon as the vertical pass is done.
        try
        {
            return Vertical(image, firstRow, verticalCoefficients, simd);
        }
        finally
        {
            if (!ReferenceEquals(image, source))
            {
                image.Dispose();
            }
        }
    }

    /// <summary>Horizontal pass over source rows [firstRow, firstRow + rows).</summary>
    private static PixelBuffer Horizontal(PixelBuffer source, int firstRow, int rows, ResampleCoefficients k, bool simd)
    {
        var result = PixelBuffer.Allocate(k.OutSize, rows, source.Channels);
        if (source.Channels == 4)
        {
            if (simd)
            {
                Horizontal4Avx2(source, firstRow, result, k);
            }
            else
            {
                Horizontal4Scalar(source, firstRow, result, k);
            }
        }
        else if (simd)
        {
            Horizontal1Avx2(source, firstRow, result, k);
        }
        else
        {
            Horizontal1Scalar(source, firstRow, result, k);
        }

        return result;
    }

    /// <summary>Vertical pass; window starts are in source rows and <paramref name="rowOffset"/> is subtracted.</summary>
    private static PixelBuffer Vertical(PixelBuffer source, int rowOffset, ResampleCoefficients k, bool simd)
    {
        var result = PixelBuffer.Allocate(source.Width, k.OutSize, source.Channels);
        int rowBytes = source.Stride;
        for (int yy = 0; yy < k.OutSize; yy++)
        {
            int start = k.Starts[yy] - rowOffset;
            var weights = k.Weights.AsSpan(yy * k.KernelSize, k.Counts[yy]);
            var output = result.Span.Slice(yy * rowBytes, rowBytes);
            int done = simd ? VerticalRowAvx2(source.Span, rowBytes, start, weights, output) : 0;
            VerticalRowScalar(source.Span, rowBytes, start, weights, output, done);
        }

        return result;
    }

    private static byte Clip8(int accumulator) => (byte)Math.Clamp(accumulator >> ResampleCoefficients.PrecisionBits, 0, 255);

    private static void Horizontal1Scalar(PixelBuffer source, int firstRow, PixelBuffer result, ResampleCoefficients k)
    {
        for (int yy = 0; yy < result.Height; yy++)
        {
            var input = source.Span.Slice((yy + firstRow) * source.Stride, source.Stride);
            var output = result.Span.Slice(yy * result.Stride, result.Stride);
            for (int xx = 0; xx < k.OutSize; xx++)
            {
                var window = input.Slice(k.Starts[xx], k.Counts[xx]);
                var weights = k.Weights.AsSpan(xx * k.KernelSize, window.Length);
                int sum = ResampleCoefficients.RoundingHalf;
                for (int x = 0; x < window.Length; x++)
                {
                    sum += window[x] * weights[x];
                }

                output[xx] = Clip8(sum);
            }
        }
    }

    private static void Horizontal4Scalar(PixelBuffer source, int firstRow, PixelBuffer result, ResampleCoefficients k)
    {
        for (int yy = 0; yy < result.Height; yy++)
        {
            var input = source.Span.Slice((yy + firstRow) * source.Stride, source.Stride);
            var output = result.Span.Slice(yy * result.Stride, result.Stride);
            for (int xx = 0; xx < k.OutSize; xx++)
            {
                var window = input.Slice(k.Starts[xx] * 4, k.Counts[xx] * 4);
                var weights = k.Weights.AsSpan(xx * k.KernelSize, k.Counts[xx]);
                int r = ResampleCoefficients.RoundingHalf, g = r, b = r, a = r;
                for (int x = 0; x < weights.Length; x++)
                {
                    int w = weights[x];
                    r += window[(x * 4) + 0] * w;
                    g += window[(x * 4) + 1] * w;
                    b += window[(x * 4) + 2] * w;
                    a += window[(x * 4) + 3] * w;
                }

                output[(xx * 4) + 0] = Clip8(r);
                output[(xx * 4) + 1] = Clip8(g);
                output[(xx * 4) + 2] = Clip8(b);
                output[(xx * 4) + 3] = Clip8(a);
            }
        }
    }

    private static void VerticalRowScalar(
        ReadOnlySpan<byte> source, int rowBytes, int start, ReadOnlySpan<int> weights, Span<byte> output, int from)
    {
        for (int x = from; x < output.Length; x++)
        {
            int sum = ResampleCoefficients.RoundingHalf;
            int index = (start * rowBytes) + x;
            for (int y = 0; y < weights.Length; y++, index += rowBytes)
            {
                sum += source[index] * weights[y];
            }

            output[x] = Clip8(sum);
        }
    }

    // One channel: eight taps at a time (eight bytes widened to eight ints, times eight weights).
    private static unsafe void Horizontal1Avx2(PixelBuffer source, int firstRow, PixelBuffer result, ResampleCoefficients k)
    {
        fixed (byte* sourceBase = source.Span)
        fixed (byte* resultBase = result.Span)
        fixed (int* weightBase = k.Weights)
        fixed (int* startBase = k.Starts)
        fixed (int* countBase = k.Counts)
        {
            for (int yy = 0; yy < result.Height; yy++)
            {
                byte* input = sourceBase + ((long)(yy + firstRow) * source.Stride);
                byte* output = resultBase + ((long)yy * result.Stride);
                for (int xx = 0; xx < k.OutSize; xx++)
                {
                    byte* pixels = input + startBase[xx];
                    int* weights = weightBase + (xx * k.KernelSize);
                    int count = countBase[xx];
                    var acc = Vector256<int>.Zero;
                    int x = 0;
                    for (; x + 8 <= count; x += 8)
                    {
                        acc += Avx2.ConvertToVector256Int32(pixels + x) * Avx.LoadVector256(weights + x);
                    }

                    int sum = ResampleCoefficients.RoundingHalf + Vector256.Sum(acc);
                    for (; x < count; x++)
                    {
                        sum += pixels[x] * weights[x];
                    }

                    output[xx] = Clip8(sum);
                }
            }
        }
    }

    // Four channels: two taps (two RGBA pixels, eight bytes) at a time against weights laid out w0×4 w1×4;
    // the two halves of the accumulator are the even and odd taps, added at the end.
    private static unsafe void Horizontal4Avx2(PixelBuffer source, int firstRow, PixelBuffer result, ResampleCoefficients k)
    {
        var expanded = k.WeightsPerChannel4();
        int stride = k.KernelSize * 4;
        fixed (byte* sourceBase = source.Span)
        fixed (byte* resultBase = result.Span)
        fixed (int* weightBase = expanded)
        fixed (int* startBase = k.Starts)
        fixed (int* countBase = k.Counts)
        {
            for (int yy = 0; yy < result.Height; yy++)
            {
                byte* input = sourceBase + ((long)(yy + firstRow) * source.Stride);
                uint* output = (uint*)(resultBase + ((long)yy * result.Stride));
                for (int xx = 0; xx < k.OutSize; xx++)
                {
                    byte* pixels = input + (startBase[xx] * 4);
                    int* weights = weightBase + (xx * stride);
                    int count = countBase[xx] * 4;
                    var acc0 = Vector256<int>.Zero;
                    var acc1 = Vector256<int>.Zero;
                    int i = 0;
                    for (; i + 16 <= count; i += 16)
                    {
                        acc0 += Avx2.ConvertToVector256Int32(pixels + i) * Avx.LoadVector256(weights + i);
                        acc1 += Avx2.ConvertToVector256Int32(pixels + i + 8) * Avx.LoadVector256(weights + i + 8);
                    }

                    if (i + 8 <= count)
                    {
                        acc0 += Avx2.ConvertToVector256Int32(pixels + i) * Avx.LoadVector256(weights + i);
                        i += 8;
                    }

                    acc0 += acc1;
                    var sum = acc0.GetLower() + acc0.GetUpper() + Vector128.Create(ResampleCoefficients.RoundingHalf);
                    if (i < count)
                    {
                        sum += Sse41.ConvertToVector128Int32(pixels + i) * Sse2.LoadVector128(weights + i);
                    }

                    sum = Sse2.ShiftRightArithmetic(sum, ResampleCoefficients.PrecisionBits);
                    var words = Sse2.PackSignedSaturate(sum, sum);
                    output[xx] = Sse2.PackUnsignedSaturate(words, words).AsUInt32().ToScalar();
                }
            }
        }
    }

    // Thirty-two output bytes at a time, each tap one row of thirty-two bytes times one broadcast weight; then
    // eight at a time. Returns how many bytes of the row it wrote (the rest is left to the scalar code).
    private static unsafe int VerticalRowAvx2(ReadOnlySpan<byte> source, int rowBytes, int start, ReadOnlySpan<int> weights, Span<byte> output)
    {
        var half = Vector256.Create(ResampleCoefficients.RoundingHalf);
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        int length = output.Length;
        int x = 0;
        fixed (byte* sourceBase = source)
        fixed (int* weightBase = weights)
        fixed (byte* outputBase = output)
        {
            byte* first = sourceBase + ((long)start * rowBytes);
            for (; x + 32 <= length; x += 32)
            {
                Vector256<int> a0 = half, a1 = half, a2 = half, a3 = half;
                byte* row = first + x;
                for (int y = 0; y < weights.Length; y++, row += rowBytes)
                {
                    var w = Vector256.Create(weightBase[y]);
                    a0 += Avx2.ConvertToVector256Int32(row) * w;
                    a1 += Avx2.ConvertToVector256Int32(row + 8) * w;
                    a2 += Avx2.ConvertToVector256Int32(row + 16) * w;
                    a3 += Avx2.ConvertToVector256Int32(row + 24) * w;
                }

                var low = Avx2.PackSignedSaturate(
                    Avx2.ShiftRightArithmetic(a0, ResampleCoefficients.PrecisionBits),
                    Avx2.ShiftRightArithmetic(a1, ResampleCoefficients.PrecisionBits));
                var high = Avx2.PackSignedSaturate(
                    Avx2.ShiftRightArithmetic(a2, ResampleCoefficients.PrecisionBits),
                    Avx2.ShiftRightArithmetic(a3, ResampleCoefficients.PrecisionBits));
                var bytes = Avx2.PackUnsignedSaturate(low, high);
                Avx.Store(outputBase + x, Avx2.PermuteVar8x32(bytes.AsInt32(), order).AsByte());
            }

            for (; x + 8 <= length; x += 8)
            {
                Vector256<int> acc = half;
                byte* row = first + x;
                for (int y = 0; y < weights.Length; y++, row += rowBytes)
                {
                    acc += Avx2.ConvertToVector256Int32(row) * Vector256.Create(weightBase[y]);
                }

                acc = Avx2.ShiftRightArithmetic(acc, ResampleCoefficients.PrecisionBits);
                var words = Sse2.PackSignedSaturate(acc.GetLower(), acc.GetUpper());
                *(ulong*)(outputBase + x) = Sse2.PackUnsignedSaturate(words, words).AsUInt64().ToScalar();
            }
        }

        return x;
    }
}
