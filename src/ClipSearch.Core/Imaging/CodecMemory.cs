using System.Buffers.Binary;
using SkiaSharp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// What Skia's codecs hold while they decode, besides the pixels they decode into, from the file's header alone.
/// Most decode row by row and hold a few rows; some keep a buffer of the whole image, whatever the size they are
/// asked to decode at:
/// <list type="bullet">
/// <item>a progressive JPEG, or a baseline one whose first scan does not hold every component (libjpeg keeps every
/// component's DCT coefficients, 2 bytes each, for the whole image: 6 bytes a pixel at 4:4:4, 3 at 4:2:0, 2 for grey,
/// even when it decodes at 1/8 scale);</item>
/// <item>an interlaced PNG (the whole image in the file's own layout: up to 8 bytes a pixel for 16-bit RGBA);</item>
/// <item>a lossless WebP (the whole image as 32-bit ARGB) and a lossy WebP with alpha (the alpha plane, and what its
/// lossless decoder holds).</item>
/// </list>
/// Measured for every layout (docs/memory.md: resident growth of one decode in a child process, 4000² and 8000²):
/// these formulas match within 2 MB; <see cref="Bytes"/> adds <see cref="RowAllowanceRows"/> rows of 8 bytes a
/// pixel and <see cref="FixedAllowanceBytes"/> for the rows, tables and state every codec keeps.
/// </summary>
public static class CodecMemory
{
    /// <summary>Rows (of 8 bytes a pixel, the widest layout: 16-bit RGBA) allowed for the codec's row buffers.</summary>
    public const int RowAllowanceRows = 16;

    /// <summary>Allowed for the codec's tables and state (libjpeg's, zlib's window, Skia's own), per decode.</summary>
    public const long FixedAllowanceBytes = 1024 * 1024;

    /// <summary>Bytes of one JPEG DCT block: 64 coefficients of 2 bytes.</summary>
    private const int JpegBlockBytes = 64 * sizeof(short);

    /// <summary>
    /// Bytes a pixel assumed where the header does not say (an unknown format, a JPEG without its frame header in
    /// these bytes): the most any layout above needs.
    /// </summary>
    private const int UnknownBytesPerPixel = 8;

    /// <summary>
    /// The most bytes the codec for <paramref name="encoded"/> (a whole file or only its head) holds besides the
    /// pixels it decodes into, for an image of <paramref name="width"/> × <paramref name="height"/> (the file's own
    /// size, whatever scale it is decoded at).
    /// </summary>
    public static long Bytes(ReadOnlySpan<byte> encoded, SKEncodedImageFormat format, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        long pixels = (long)width * height;
        long whole = format switch
        {
            SKEncodedImageFormat.Jpeg => JpegCoefficientBytes(encoded) ?? UnknownBytesPerPixel * pixels,
            SKEncodedImageFormat.Png => PngInterlaceBytes(encoded) ?? UnknownBytesPerPixel * pixels,
            SKEncodedImageFormat.Webp => WebpBytesPerPixel(encoded) * pixels,
            SKEncodedImageFormat.Gif or SKEncodedImageFormat.Bmp => 0,
            _ => UnknownBytesPerPixel * pixels,
        };
        return whole + (RowAllowanceRows * 8L * width) + FixedAllowanceBytes;
    }

    /// <summary>
    /// What libjpeg's whole-image coefficient buffer takes for this JPEG: 0 for a single-scan baseline file, null when
    /// the frame header is not in <paramref name="data"/>.
    /// </summary>
    internal static long? JpegCoefficientBytes(ReadOnlySpan<byte> data)
    {
        var frame = ReadJpegFrame(data);
        if (frame is not { } f)
        {
            return null;
        }

        // libjpeg (jdinput.c) keeps whole-image coefficients when the file is progressive or its first scan holds
        // fewer components than the frame; a first scan not in these bytes is taken to be such.
        if (!f.Progressive && f.FirstScanComponents == f.Components.Length)
        {
            return 0;
        }

        int hMax = f.Components.Max(c => c.H), vMax = f.Components.Max(c => c.V);
        long blocks = 0;
        foreach (var (h, v) in f.Components)
        {
            // jdcoefct.c: width_in_blocks and height_in_blocks rounded up to the component's sampling factors.
            long across = RoundUp(DivideRoundingUp((long)f.Width * h, 8L * hMax), h);
            long down = RoundUp(DivideRoundingUp((long)f.Height * v, 8L * vMax), v);
            blocks += across * down;
        }

        return blocks * JpegBlockBytes;
    }

    private static JpegFrame? ReadJpegFrame(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || ImageFormats.Sniff(data) != ImageFormat.Jpeg)
        {
            return null;
        }

        JpegFrame? frame = null;
        int position = 2;
        while (position + 4 <= data.Length)
        {
            if (data[position] != 0xFF)
            {
                return frame;   // not a marker where one belongs: what was read so far
            }

            byte marker = data[position + 1];
            if (marker == 0xFF)
            {
                position++;     // fill byte
                continue;
            }

            if (marker is 0x01 or 0xD8 or (>= 0xD0 and <= 0xD7))
            {
                position += 2;  // markers without a length
                continue;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(position + 2)..]);
            var segment = data.Slice(position + 4, Math.Max(0, Math.Min(length - 2, data.Length - position - 4)));
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (segment.Length < 6 || segment.Length < 6 + (3 * segment[5]) || segment[5] == 0)
                {
                    return null;
                }

                var components = new (int H, int V)[segment[5]];
                for (int i = 0; i < components.Length; i++)
                {
                    byte sampling = segment[6 + (3 * i) + 1];
                    components[i] = (Math.Max(1, sampling >> 4), Math.Max(1, sampling & 0x0F));
                }

                frame = new JpegFrame(BinaryPrimitives.ReadUInt16BigEndian(segment[3..]), BinaryPrimitives.ReadUInt16BigEndian(segment[1..]),
                    marker is 0xC2 or 0xC6 or 0xCA or 0xCE, components, 0);
            }
            else if (marker == 0xDA)
            {
                return frame is null || segment.IsEmpty ? frame : frame with { FirstScanComponents = segment[0] };
            }
            else if (marker == 0xD9)
            {
                return frame;
            }

            position += 2 + length;
        }

        return frame;
    }

    /// <summary>
    /// What Skia's interlaced PNG decoder keeps: the whole image in the file's layout (channels, with an alpha channel
    /// added for a tRNS chunk, 2 bytes a channel at 16 bits, 1 below; palettes counted as RGBA). 0 when the file is not
    /// interlaced, null when its header is not in <paramref name="data"/>. Its pass buffers count as one more <see cref="FixedAllowanceBytes"/>.
    /// </summary>
    internal static long? PngInterlaceBytes(ReadOnlySpan<byte> data)
    {
        const int headerEnd = 8 + 8 + 13;
        if (data.Length < headerEnd || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return null;
        }

        long width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
        long height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        byte bitDepth = data[24], colourType = data[25], interlace = data[28];
        if (interlace == 0)
        {
            return 0;
        }

        bool transparency = false;
        for (int position = 8 + 8 + 13 + 4; position + 8 <= data.Length;)
        {
            var type = data.Slice(position + 4, 4);
            if (type.SequenceEqual("IDAT"u8))
            {
                break;
            }

            transparency |= type.SequenceEqual("tRNS"u8);
            position += 12 + (int)Math.Min(int.MaxValue - 12 - position, BinaryPrimitives.ReadUInt32BigEndian(data[position..]));
        }

        int channels = colourType switch
        {
            0 => transparency ? 2 : 1,
            2 => transparency ? 4 : 3,
            4 => 2,
            _ => 4,   // 6 (RGBA); 3 (palette) as the RGBA it may be expanded to
        };
        // Besides the image, its passes' rows and the conversion to 8 bits beside them: measured 0.3–0.5 MB beyond the
        // shared allowances for a 3000 × 2000 16-bit RGBA file (DecodeMemoryTests), so one allowance more.
        return (width * height * channels * (bitDepth == 16 ? 2 : 1)) + FixedAllowanceBytes;
    }

    // RIFF/WEBP: "VP8 " alone is lossy without alpha (row by row); "VP8L" lossless (the image as ARGB, 4 bytes a
    // pixel); "ALPH" before "VP8 " lossy with alpha: the alpha plane (1) and, for its lossless stream, up to ARGB
    // (4). Anything not recognised (animation, a truncated header) is counted as the most of these.
    private static long WebpBytesPerPixel(ReadOnlySpan<byte> data)
    {
        const long lossless = 4, lossyWithAlpha = 5;
        if (data.Length < 16 || ImageFormats.Sniff(data) != ImageFormat.WebP)
        {
            return lossyWithAlpha;
        }

        for (int position = 12; position + 8 <= data.Length;)
        {
            var type = data.Slice(position, 4);
            if (type.SequenceEqual("VP8 "u8))
            {
                return 0;
            }

            if (type.SequenceEqual("VP8L"u8))
            {
                return lossless;
            }

            if (type.SequenceEqual("ALPH"u8) || type.SequenceEqual("ANIM"u8) || type.SequenceEqual("ANMF"u8))
            {
                return lossyWithAlpha;
            }

            long size = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 4)..]);
            position += (int)Math.Min(int.MaxValue - position - 8, 8 + size + (size & 1));
        }

        return lossyWithAlpha;
    }

    private static long DivideRoundingUp(long value, long divisor) => (value + divisor - 1) / divisor;

    private static long RoundUp(long value, long multiple) => DivideRoundingUp(value, multiple) * multiple;

    private sealed record JpegFrame(int Width, int Height, bool Progressive, (int H, int V)[] Components, int FirstScanComponents);
}
