namespace ClipSearch.Core.Imaging;

/// <summary>An encoded image format ClipSearch reads.</summary>
public enum ImageFormat
{
    /// <summary>JPEG (JFIF, EXIF).</summary>
    Jpeg,

    /// <summary>PNG.</summary>
    Png,

    /// <summary>WebP (lossy or lossless).</summary>
    WebP,

    /// <summary>GIF (the first frame).</summary>
    Gif,

    /// <summary>Windows bitmap.</summary>
    Bmp,
}

/// <summary>
/// Tells an encoded image's format from its first bytes (its signature), never from a file name: the one content
/// sniffer of the solution, for decoding, the content type sent with an image and "not an image" messages.
/// </summary>
public static class ImageFormats
{
    /// <summary>Bytes of a file's head that <see cref="Sniff"/> needs at most.</summary>
    public const int SignatureBytes = 12;

    /// <summary>The format <paramref name="head"/> starts as, or null when it is none ClipSearch reads.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageFormat.Png;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageFormat.Jpeg;
        }

        if (head.StartsWith("GIF8"u8))
        {
            return ImageFormat.Gif;
        }

        if (head.StartsWith("BM"u8))
        {
            return ImageFormat.Bmp;
        }

        return head.Length >= SignatureBytes && head.StartsWith("RIFF"u8) && head.Slice(8, 4).SequenceEqual("WEBP"u8) ? ImageFormat.WebP : null;
    }

    /// <summary>The MIME type of <paramref name="format"/> (image/jpeg, image/png, …).</summary>
    public static string ContentType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Gif => "image/gif",
        ImageFormat.Bmp => "image/bmp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The MIME type of the image <paramref name="head"/> starts, or <c>application/octet-stream</c> when it is none ClipSearch reads.</summary>
    public static string ContentTypeOf(ReadOnlySpan<byte> head) => Sniff(head)?.ContentType() ?? "application/octet-stream";
}
