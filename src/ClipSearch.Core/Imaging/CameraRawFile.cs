using ImageMagick;
using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// What a camera raw file holds, as libraw (through ImageMagick) reads it without developing it: its size, its
/// orientation and its largest embedded preview JPEG. A preview whose shorter side is at least
/// <see cref="MinPreviewShorterSide"/> is what ClipSearch decodes (it is what the camera rendered, and a JPEG decodes
/// fast, at a reduced DCT scale); a raw file without one is developed from its raw data (<see cref="MagickDecoder"/>).
/// </summary>
internal sealed record CameraRawFile(int Width, int Height, SKEncodedOrigin Origin, byte[]? Preview)
{
    /// <summary>
    /// The shortest preview used in place of the raw data: twice the model's 224-pixel input, as the fast JPEG path
    /// keeps (older cameras embed only a 160×120 thumbnail, too small to stand for the photo).
    /// </summary>
    public const int MinPreviewShorterSide = 448;

    /// <summary>
    /// What a raw file is taken to cost from its head alone (its preview or raw data are only found once it is read
    /// whole): a 24-megapixel RGBA image and its rotated copy. A file that needs more is charged again once read.
    /// </summary>
    public const long HeadEstimateBytes = 2L * 4 * 24_000_000;

    /// <summary>Reads the raw file's header and its embedded preview (the file is not developed).</summary>
    /// <exception cref="ImageLoadException">libraw cannot read the file.</exception>
    public static CameraRawFile Open(ReadOnlySpan<byte> encoded, string name)
    {
        var settings = MagickDecoder.Settings(ImageFormat.CameraRaw);
        settings.SetDefine(MagickFormat.Dng, "read-thumbnail", "true");
        using var image = new MagickImage();
        try
        {
            image.Ping(encoded, settings);
        }
        catch (MagickException e)
        {
            throw MagickDecoder.Corrupt(name, ImageFormat.CameraRaw, e);
        }

        var preview = image.GetAttribute("dng:thumbnail.type") == "jpeg" ? image.GetProfile("dng:thumbnail")?.ToByteArray() : null;
        return new CameraRawFile(checked((int)image.Width), checked((int)image.Height), MagickDecoder.OriginOf(image.Orientation),
            preview is not null && IsLargeEnough(preview) ? preview : null);
    }

    private static bool IsLargeEnough(byte[] preview)
    {
        if (ImageFormats.Sniff(preview) != ImageFormat.Jpeg)
        {
            return false;
        }

        using var codec = SKCodec.Create(new MemoryStream(preview, writable: false));
        return codec is not null && Math.Min(codec.Info.Width, codec.Info.Height) >= MinPreviewShorterSide;
    }
}
