using ClipSearch.Core.Imaging;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>
/// The resampler against values Pillow gives (Image.resize with BICUBIC / NEAREST on the same bytes; the
/// resampling code is the same from Pillow 9 to 12.3) and against a hand derivation.
/// </summary>
public sealed class PillowResamplerTests
{
    private static PixelBuffer Grey(int width, int height, params byte[] values) => new(width, height, 1, values);

    [Fact]
    public void Resize_FourToTwo_MatchesHandComputedPillowValue()
    {
        // Output 0: scale 2, support 2·2 = 4, centre 1.0, window x = 0..3 (xmin = int(-2.5) → 0, xmax = min(5, 4)).
        // Kernel at (x - 1 + 0.5)/2 = -0.25, 0.25, 0.75, 1.25: 0.8671875, 0.8671875, 0.2265625, -0.0703125;
        // sum 1.890625. Value = 255 · (0.2265625 - 0.0703125) / 1.890625 = 21.07 → 21 (fixed point, +2^21, >> 22).
        var result = PillowResampler.Resize(Grey(4, 1, 0, 0, 255, 255), 2, 1, ResampleFilter.Bicubic);
        Assert.Equal([21, 234], result.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Resize_SmallRows_MatchPillow(bool simd)
    {
        Assert.Equal(
            [87, 125, 158],
            PillowResampler.Resize(Grey(5, 1, 10, 200, 30, 250, 90), 3, 1, ResampleFilter.Bicubic, allowSimd: simd).ToArray());
        Assert.Equal(
            [0, 8, 46, 100, 175, 241, 255],
            PillowResampler.Resize(Grey(3, 1, 0, 100, 255), 7, 1, ResampleFilter.Bicubic, allowSimd: simd).ToArray());
    }

    private static PixelBuffer FourByFourRgba() => new(4, 4, 4,
    [
        255, 0, 0, 0, 0, 255, 0, 128, 0, 0, 255, 255, 255, 255, 255, 64,
        10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160,
        200, 0, 100, 255, 0, 0, 0, 0, 255, 255, 0, 200, 30, 60, 90, 20,
        1, 2, 3, 4, 250, 240, 230, 220, 128, 128, 128, 128, 9, 99, 199, 255,
    ]);

    [Fact]
    public void Resize_RgbaInOwnMode_IsPremultipliedLikePillow()
    {
        // Pillow: Image.frombytes("RGBA", (4, 4), …).resize((3, 3), BICUBIC), which goes through "RGBa".
        var result = PillowResize.Resize(FourByFourRgba(), PillowMode.Rgba, 3, 3, ResampleFilter.Bicubic);
        Assert.Equal(
            [
                0, 255, 0, 22, 4, 75, 160, 178, 107, 99, 233, 131,
                158, 0, 90, 119, 174, 185, 27, 92, 164, 169, 88, 110,
                226, 112, 165, 100, 230, 224, 159, 157, 35, 109, 165, 179,
            ],
            result.ToArray());
    }

    [Fact]
    public void Resize_RgbaAsRgb_IgnoresAlpha()
    {
        // Pillow: the same image .convert("RGB").resize((3, 3), BICUBIC).
        var result = PillowResize.Resize(FourByFourRgba(), PillowMode.Rgb, 3, 3, ResampleFilter.Bicubic);
        byte[] rgb = [.. result.ToArray().Where((_, i) => i % 4 != 3)];
        Assert.Equal(
            [142, 67, 7, 14, 113, 124, 176, 166, 231, 73, 10, 58, 99, 103, 37, 111, 127, 97, 93, 49, 70, 187, 182, 133, 47, 105, 145],
            rgb);
    }

    [Fact]
    public void Resize_OverHundredTimesTaller_ResizesVerticallyFirst()
    {
        // Pillow ≥ 12.2 resizes (w, h) → (w, h') → (w', h') when h > 100·w and h shrinks; values from Pillow's
        // two separate resizes of the same 2×205 image. One pass order gives 135 and 120 at rows 3 and 4.
        var values = new byte[2 * 205];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (byte)(((i * i * 7) + (i * 31) + 3) % 256);
        }

        byte[] verticalFirst = [131, 118, 123, 136, 136, 124, 119];
        byte[] horizontalFirst = [131, 118, 123, 135, 136, 124, 119];
        Assert.Equal(verticalFirst, PillowResize.Resize(Grey(2, 205, values), PillowMode.Grey, 1, 7, ResampleFilter.Bicubic).ToArray());
        Assert.Equal(horizontalFirst, PillowResampler.Resize(Grey(2, 205, values), 1, 7, ResampleFilter.Bicubic).ToArray());
    }

    [Fact]
    public void Resize_PaletteInOwnMode_IsNearestNeighbourLikePillow()
    {
        // Pillow: "P" images are always resized with NEAREST: 5 → 3 picks 0, 2, 4; 3 → 7 picks 0,0,1,1,1,2,2;
        // 10 → 4 picks 1, 3, 6, 8.
        Assert.Equal([0, 2, 4], PillowResize.Resize(Grey(5, 1, 0, 1, 2, 3, 4), PillowMode.Palette, 3, 1, ResampleFilter.Bicubic).ToArray());
        Assert.Equal([0, 0, 1, 1, 1, 2, 2], NearestResampler.Resize(Grey(3, 1, 0, 1, 2), 7, 1).ToArray());
        Assert.Equal([1, 3, 6, 8], NearestResampler.Resize(Grey(10, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 4, 1).ToArray());
    }

    [Fact]
    public void Premultiply_RoundsAsPillowConvertDoes()
    {
        // MULDIV255: (c·a + 128 + ((c·a + 128) >> 8)) >> 8; and back: min(255, c·255 / a), alpha 0 and 255 untouched.
        var image = new PixelBuffer(3, 1, 4, [200, 100, 1, 128, 255, 255, 255, 1, 7, 8, 9, 0]);
        var premultiplied = PillowResize.Premultiply(image);
        Assert.Equal([100, 50, 1, 128, 1, 1, 1, 1, 0, 0, 0, 0], premultiplied.ToArray());

        PillowResize.Unpremultiply(premultiplied);
        Assert.Equal([199, 99, 1, 128, 255, 255, 255, 1, 0, 0, 0, 0], premultiplied.ToArray());
    }

    public static TheoryData<int, int, int, int, int> Sizes => new()
    {
        { 4, 1000, 700, 224, 156 },
        { 4, 701, 1003, 224, 320 },
        { 1, 997, 640, 349, 224 },
        { 4, 37, 23, 224, 139 },
        { 1, 3, 900, 1, 224 },
        { 4, 5, 1000, 224, 44800 / 1000 },
        { 4, 333, 333, 333, 224 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Resize_SimdEqualsScalar(int channels, int width, int height, int outWidth, int outHeight)
    {
        var random = new Random(width * 31 + height);
        var data = new byte[width * height * channels];
        random.NextBytes(data);
        var source = new PixelBuffer(width, height, channels, data);

        var scalar = PillowResampler.Resize(source, outWidth, outHeight, ResampleFilter.Bicubic, allowSimd: false);
        var simd = PillowResampler.Resize(source, outWidth, outHeight, ResampleFilter.Bicubic, allowSimd: true);
        var tallScalar = PillowResampler.Resize(source, outWidth, outHeight, ResampleFilter.Bicubic, verticalFirst: true, allowSimd: false);
        var tallSimd = PillowResampler.Resize(source, outWidth, outHeight, ResampleFilter.Bicubic, verticalFirst: true, allowSimd: true);

        Assert.Equal(scalar.ToArray(), simd.ToArray());
        Assert.Equal(tallScalar.ToArray(), tallSimd.ToArray());
    }

    [Fact]
    public void Coefficients_AreFixedPointAndSumToOne()
    {
        var k = ResampleCoefficients.Compute(4032, 298, ResampleFilter.Bicubic);
        Assert.Equal((2 * (int)Math.Ceiling(2 * 4032.0 / 298)) + 1, k.KernelSize);
        for (int i = 0; i < k.OutSize; i++)
        {
            long sum = 0;
            for (int t = 0; t < k.Counts[i]; t++)
            {
                sum += k.Weights[(i * k.KernelSize) + t];
            }

            // Each weight rounds on its own, so the sum lands within a few units of 2^22.
            Assert.InRange(sum, (1 << 22) - 64, (1 << 22) + 64);
            Assert.InRange(k.Starts[i] + k.Counts[i], 1, 4032);
        }
    }
}
