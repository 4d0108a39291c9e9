using SkiaSharp;

namespace ClipSearch.Tests;

/// <summary>
/// The kinds of image file whose decoders hold different amounts of memory, by name, made on the spot (linked into
/// the web tests too): every layout Skia decodes here that changes what its codec keeps.
/// </summary>
internal static class ImageKinds
{
    /// <summary>Every kind, by name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<int, int, byte[]>> All = new Dictionary<string, Func<int, int, byte[]>>(StringComparer.Ordinal)
    {
        ["jpeg-baseline-444"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Baseline),
        ["jpeg-baseline-420"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Baseline, 2, 2),
        ["jpeg-baseline-grey"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Baseline, grey: true),
        ["jpeg-multiscan-444"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.BaselineMultiScan),
        ["jpeg-progressive-444"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Progressive),
        ["jpeg-progressive-420"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Progressive, 2, 2),
        ["jpeg-progressive-grey"] = (w, h) => LargeImages.Jpeg(w, h, JpegLayout.Progressive, grey: true),
        ["png-rgb8"] = (w, h) => LargeImages.Png(w, h, 2, 8, interlaced: false),
        ["png-rgba16"] = (w, h) => LargeImages.Png(w, h, 6, 16, interlaced: false),
        ["png-rgb8-interlaced"] = (w, h) => LargeImages.Png(w, h, 2, 8, interlaced: true),
        ["png-rgba16-interlaced"] = (w, h) => LargeImages.Png(w, h, 6, 16, interlaced: true),
        ["png-grey8-interlaced"] = (w, h) => LargeImages.Png(w, h, 0, 8, interlaced: true),
        ["gif"] = (w, h) => LargeImages.Gif(w, h),
        ["gif-interlaced"] = (w, h) => LargeImages.Gif(w, h, interlaced: true),
        ["webp-lossy"] = (w, h) => Webp(w, h, SKWebpEncoderCompression.Lossy, alpha: false),
        ["webp-lossy-alpha"] = (w, h) => Webp(w, h, SKWebpEncoderCompression.Lossy, alpha: true),
        ["webp-lossless"] = (w, h) => Webp(w, h, SKWebpEncoderCompression.Lossless, alpha: false),
        ["bmp24"] = (w, h) => LargeImages.Bmp(w, h, 24),
        ["bmp32"] = (w, h) => LargeImages.Bmp(w, h, 32),
    };

    // A gradient of many colours (one colour, or a few, would be stored as a palette of packed indices, which
    // takes the lossless decoder far less memory than a photo does), half transparent when alpha is asked for.
    private static byte[] Webp(int width, int height, SKWebpEncoderCompression compression, bool alpha)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = 4 * ((y * width) + x);
                pixels[i] = (byte)x;
                pixels[i + 1] = (byte)y;
                pixels[i + 2] = (byte)((x >> 8) + (y >> 8));
                pixels[i + 3] = alpha ? (byte)(x + y) : (byte)255;
            }
        }

        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(compression, compression == SKWebpEncoderCompression.Lossless ? 0 : 50))
            ?? throw new InvalidOperationException("Skia could not encode the WebP");
        return data.ToArray();
    }
}
