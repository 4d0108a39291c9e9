using System.Buffers.Binary;

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

    /// <summary>HEIC/HEIF: HEVC in the HEIF container (the primary image).</summary>
    Heif,

    /// <summary>AVIF: AV1 in the HEIF container (the primary image).</summary>
    Avif,

    /// <summary>TIFF (the first page).</summary>
    Tiff,

    /// <summary>JPEG XL (bare codestream or ISO BMFF container).</summary>
    JpegXl,

    /// <summary>A camera's raw file (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2, PEF, …): its embedded preview, else its raw data developed.</summary>
    CameraRaw,
}

/// <summary>
/// Tells an encoded image's format from its first bytes (its signature), never from a file name: the one content
/// sniffer of the solution, for decoding, the content type sent with an image and "not an image" messages.
/// </summary>
/// <remarks>
/// One case is ambiguous by content: many raw formats (NEF, ARW, PEF, DNG without its tag in the first directory,
/// …) are TIFF files. Their first directory usually shows it (a DNG version, a reduced-resolution first image, a
/// raw compression scheme), and then the bytes decide; when it does not, <see cref="Sniff(ReadOnlySpan{byte}, string?)"/>
/// takes a TIFF named as a raw file (<see cref="ImageFileTypes.IsCameraRawName"/>) as one.
/// </remarks>
public static class ImageFormats
{
    /// <summary>Bytes of a file's head that <see cref="Sniff(ReadOnlySpan{byte})"/> needs at most (the ISO BMFF brands, a TIFF's first directory).</summary>
    public const int SignatureBytes = 4096;

    private const int BoxHeaderBytes = 8;
    private const int TiffHeaderBytes = 8;
    private const ushort TiffNewSubfileType = 0xFE;
    private const ushort TiffCompression = 0x103;
    private const ushort TiffDngVersion = 0xC612;
    private const ushort TiffCfaPattern = 0x828E;

    /// <summary>TIFF compression schemes only camera raw files use (Nikon, Sony, Pentax, Kodak…); 1–50000 below are TIFF's own.</summary>
    private static readonly HashSet<int> _rawCompressions = [32767, 32769, 32770, 34713, 34892, 65000, 65535];

    private static ReadOnlySpan<byte> JxlContainer => [0, 0, 0, 0x0C, (byte)'J', (byte)'X', (byte)'L', (byte)' ', 0x0D, 0x0A, 0x87, 0x0A];

    /// <summary>The formats ClipSearch reads, in words for messages.</summary>
    public const string Readable = "JPEG, PNG, WebP, GIF, BMP, HEIC/HEIF, AVIF, TIFF, JPEG XL or a camera raw file";

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

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return ImageFormat.WebP;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0x0A]) || head.StartsWith(JxlContainer))
        {
            return ImageFormat.JpegXl;
        }

        if (head.StartsWith("FUJIFILMCCD-RAW"u8))
        {
            return ImageFormat.CameraRaw;
        }

        return head.Length >= 12 && head.Slice(4, 4).SequenceEqual("ftyp"u8) ? FromBrands(head) : FromTiff(head);
    }

    /// <summary>
    /// As <see cref="Sniff(ReadOnlySpan{byte})"/>, and a TIFF whose first directory does not tell (a raw file's often
    /// does not) is a camera raw file when <paramref name="name"/> says it is one.
    /// </summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> head, string? name)
    {
        var format = Sniff(head);
        return format == ImageFormat.Tiff && name is not null && ImageFileTypes.IsCameraRawName(name) ? ImageFormat.CameraRaw : format;
    }

    /// <summary>
    /// Whether <paramref name="format"/> is decoded through ImageMagick (<see cref="MagickDecoder"/>) rather than Skia.
    /// Here, not on the decoder: asking must not load ImageMagick's natives into a process that only reads JPEGs.
    /// </summary>
    internal static bool DecodedByMagick(this ImageFormat format) =>
        format is ImageFormat.Heif or ImageFormat.Avif or ImageFormat.Tiff or ImageFormat.JpegXl or ImageFormat.CameraRaw;

    /// <summary>Whether browsers show <paramref name="format"/> themselves (JPEG, PNG, WebP, GIF, BMP); the others are served converted.</summary>
    public static bool BrowsersShow(this ImageFormat format) =>
        format is ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.WebP or ImageFormat.Gif or ImageFormat.Bmp;

    /// <summary>The MIME type of <paramref name="format"/> (image/jpeg, image/png, …).</summary>
    public static string ContentType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Gif => "image/gif",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.Heif => "image/heic",
        ImageFormat.Avif => "image/avif",
        ImageFormat.Tiff => "image/tiff",
        ImageFormat.JpegXl => "image/jxl",
        ImageFormat.CameraRaw => "image/x-dcraw",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The short lower-case name of <paramref name="format"/> (jpeg, png, webp, gif, bmp, heic, avif, tiff, jxl, raw).</summary>
    public static string Name(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpeg",
        ImageFormat.Png => "png",
        ImageFormat.WebP => "webp",
        ImageFormat.Gif => "gif",
        ImageFormat.Bmp => "bmp",
        ImageFormat.Heif => "heic",
        ImageFormat.Avif => "avif",
        ImageFormat.Tiff => "tiff",
        ImageFormat.JpegXl => "jxl",
        ImageFormat.CameraRaw => "raw",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The format whose <see cref="Name"/> is <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ImageFormat? FromName(string? name) =>
        Enum.GetValues<ImageFormat>().Cast<ImageFormat?>().FirstOrDefault(f => string.Equals(f!.Value.Name(), name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The MIME type of the image <paramref name="head"/> starts, or <c>application/octet-stream</c> when it is none ClipSearch reads.</summary>
    public static string ContentTypeOf(ReadOnlySpan<byte> head) => Sniff(head)?.ContentType() ?? "application/octet-stream";

    // ISO BMFF: the ftyp box's major brand, then its compatible brands. AVIF before HEIF: an AVIF lists mif1 too.
    private static ImageFormat? FromBrands(ReadOnlySpan<byte> head)
    {
        var size = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(head), (uint)head.Length);
        var brands = new List<string>();
        for (var offset = BoxHeaderBytes; offset + 4 <= size; offset += offset == BoxHeaderBytes ? 8 : 4)
        {
            brands.Add(System.Text.Encoding.ASCII.GetString(head.Slice(offset, 4)));
        }

        if (brands.Count > 0 && brands[0] == "crx ")
        {
            return ImageFormat.CameraRaw;
        }

        if (brands.Contains("jxl "))
        {
            return ImageFormat.JpegXl;
        }

        if (brands.Exists(b => b is "avif" or "avis"))
        {
            return ImageFormat.Avif;
        }

        return brands.Exists(b => b is "heic" or "heix" or "hevc" or "hevx" or "heim" or "heis" or "hevm" or "hevs" or "mif1" or "msf1" or "mif2")
            ? ImageFormat.Heif
            : null;
    }

    // TIFF ("II*\0", "MM\0*") and the raw formats built on it: Canon CR2 ("CR" after the header), Olympus ORF
    // ("IIRO", "IIRS", "MMOR"), Panasonic RW2 ("IIU\0"); others tell by their first directory.
    private static ImageFormat? FromTiff(ReadOnlySpan<byte> head)
    {
        if (head.Length < TiffHeaderBytes)
        {
            return null;
        }

        if (head.StartsWith("IIRO"u8) || head.StartsWith("IIRS"u8) || head.StartsWith("MMOR"u8) || head.StartsWith((ReadOnlySpan<byte>)[(byte)'I', (byte)'I', (byte)'U', 0]))
        {
            return ImageFormat.CameraRaw;
        }

        bool little = head.StartsWith((ReadOnlySpan<byte>)[(byte)'I', (byte)'I', 42, 0]);
        if (!little && !head.StartsWith((ReadOnlySpan<byte>)[(byte)'M', (byte)'M', 0, 42]))
        {
            return null;
        }

        if (head.Length >= 10 && head[8] == (byte)'C' && head[9] == (byte)'R')
        {
            return ImageFormat.CameraRaw;
        }

        return FirstDirectoryIsRaw(head) ? ImageFormat.CameraRaw : ImageFormat.Tiff;
    }

    private static bool FirstDirectoryIsRaw(ReadOnlySpan<byte> head)
    {
        foreach (var entry in TiffDirectory.FirstEntries(head, out _))
        {
            switch (entry.Tag)
            {
                case TiffDngVersion or TiffCfaPattern:
                    return true;
                case TiffNewSubfileType when entry.Value == 1:   // the first image is a reduced preview of one stored elsewhere
                    return true;
                case TiffCompression when _rawCompressions.Contains(entry.Value):
                    return true;
            }
        }

        return false;
    }
}
