using System.Buffers.Binary;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// The Pillow image mode that <c>Image.open</c> would give a file. It decides how Pillow's <c>Image.resize</c>
/// treats the pixels, and so how we must: palette and bilevel images are resized with nearest neighbour, RGBA and
/// LA with premultiplied alpha, grey as one channel.
/// </summary>
internal enum PillowMode
{
    /// <summary>"L": 8-bit grey; stored with one channel.</summary>
    Grey,

    /// <summary>"1": bilevel (1-bit grey PNG, two-colour grey BMP); stored with one channel, resized with nearest.</summary>
    Bilevel,

    /// <summary>"LA": grey and alpha; stored as RGBA with R = G = B (each channel is resampled alike).</summary>
    GreyAlpha,

    /// <summary>"RGB": stored as RGBA, the fourth byte ignored.</summary>
    Rgb,

    /// <summary>"RGBA": stored as RGBA, resized premultiplied (Pillow's "RGBa").</summary>
    Rgba,

    /// <summary>"P": palette (GIF, PNG colour type 3, BMP up to 8 bits); stored expanded to RGBA, resized with nearest.</summary>
    Palette,
}

/// <summary>What Pillow's image plugins would call an encoded image, read from its header bytes.</summary>
internal static class PillowModeSniffer
{
    private const int PngColourTypeOffset = 25;
    private const int PngBitDepthOffset = 24;

    /// <summary>
    /// The mode from the container's header where the header decides it (PNG, GIF, BMP); null where Skia's own
    /// description of the image (grey or colour, alpha or not) is enough (JPEG, WebP, others).
    /// </summary>
    public static PillowMode? FromHeader(ReadOnlySpan<byte> data)
    {
        return ImageFormats.Sniff(data) switch
        {
            ImageFormat.Png => FromPngHeader(data),
            ImageFormat.Gif => FromGifHeader(data),
            ImageFormat.Bmp => FromBmpHeader(data),
            _ => null,
        };
    }

    // PngImagePlugin: colour type 0 → "1" (1 bit) or "L"; 2 → "RGB"; 3 → "P"; 4 → "LA"; 6 → "RGBA". A tRNS chunk
    // does not change the mode. Known difference: 16-bit grey opens as "I;16" in Pillow, whose convert("RGB") clips
    // every value above 255 to white; Skia hands over only the high byte, so we see an ordinary grey image there.
    private static PillowMode? FromPngHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length <= PngColourTypeOffset || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return null;
        }

        return data[PngColourTypeOffset] switch
        {
            0 => data[PngBitDepthOffset] == 1 ? PillowMode.Bilevel : PillowMode.Grey,
            2 => PillowMode.Rgb,
            3 => PillowMode.Palette,
            4 => PillowMode.GreyAlpha,
            6 => PillowMode.Rgba,
            _ => null,
        };
    }

    // GifImagePlugin: the first frame is "P", unless its palette (the local one, else the global one) is absent
    // or is the identity grey ramp (entry i = (i, i, i)), in which case it is "L".
    private static PillowMode FromGifHeader(ReadOnlySpan<byte> data)
    {
        var palette = ReadGifFirstFrame(data).Palette;
        return palette is null || IsIdentityGreyRamp(palette, 3, palette.Length / 3) ? PillowMode.Grey : PillowMode.Palette;
    }

    /// <summary>
    /// The colour Pillow gives the pixels of a GIF's first frame that Skia decodes as fully transparent: the
    /// palette entry of the transparent index (Pillow fills the frame with that index and <c>convert("RGB")</c>
    /// ignores transparency), or of index 0 where there is none. Null if the bytes are not a GIF.
    /// </summary>
    public static (byte R, byte G, byte B)? GifTransparentFill(ReadOnlySpan<byte> data)
    {
        if (ImageFormats.Sniff(data) != ImageFormat.Gif)
        {
            return null;
        }

        var frame = ReadGifFirstFrame(data);
        int index = frame.TransparentIndex ?? 0;
        if (frame.Palette is { } palette && (index * 3) + 3 <= palette.Length)
        {
            return (palette[index * 3], palette[(index * 3) + 1], palette[(index * 3) + 2]);
        }

        // No palette: Pillow's "L" mode, where the index is the grey value.
        return ((byte)index, (byte)index, (byte)index);
    }

    // Walks the GIF blocks up to the first image descriptor: the palette that frame uses (its local one, else
    // the global one) and the transparent index of the graphic control extension before it, if any.
    private static (byte[]? Palette, int? TransparentIndex) ReadGifFirstFrame(ReadOnlySpan<byte> data)
    {
        const int screenDescriptorEnd = 13;
        const byte graphicControlLabel = 0xF9;
        if (data.Length < screenDescriptorEnd)
        {
            return (null, null);
        }

        int position = screenDescriptorEnd;
        byte[]? palette = null;
        byte screenFlags = data[10];
        if ((screenFlags & 0x80) != 0)
        {
            int size = 3 << ((screenFlags & 7) + 1);
            if (position + size > data.Length)
            {
                return (null, null);
            }

            palette = data.Slice(position, size).ToArray();
            position += size;
        }

        int? transparentIndex = null;
        while (position < data.Length)
        {
            byte introducer = data[position++];
            if (introducer == (byte)'!' && position < data.Length)
            {
                byte label = data[position++];
                if (label == graphicControlLabel && position + 4 < data.Length && data[position] >= 4)
                {
                    byte flags = data[position + 1];
                    transparentIndex = (flags & 1) != 0 ? data[position + 4] : null;
                }

                position = SkipSubBlocks(data, position);
            }
            else if (introducer == (byte)',')
            {
                const int imageDescriptorLength = 9;
                if (position + imageDescriptorLength > data.Length)
                {
                    break;
                }

                byte imageFlags = data[position + 8];
                position += imageDescriptorLength;
                if ((imageFlags & 0x80) != 0)
                {
                    int size = 3 << ((imageFlags & 7) + 1);
                    if (position + size <= data.Length)
                    {
                        palette = data.Slice(position, size).ToArray();
                    }
                }

                break;
            }
            else
            {
                break;
            }
        }

        return (palette, transparentIndex);
    }

    private static int SkipSubBlocks(ReadOnlySpan<byte> data, int position)
    {
        while (position < data.Length)
        {
            int length = data[position++];
            if (length == 0)
            {
                break;
            }

            position += length;
        }

        return position;
    }

    // BmpImagePlugin: 1, 4 and 8 bits per pixel are "P", unless every palette entry i is (i, i, i) (for two colours:
    // black and white), in which case they are "L" (or "1" for two colours). More bits: "RGB".
    private static PillowMode? FromBmpHeader(ReadOnlySpan<byte> data)
    {
        const int fileHeaderLength = 14;
        if (data.Length < fileHeaderLength + 16)
        {
            return null;
        }

        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[fileHeaderLength..]);
        int bitsPerPixel;
        int colours;
        int entrySize;
        if (headerSize == 12)
        {
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(data[(fileHeaderLength + 10)..]);
            colours = 0;
            entrySize = 3;
        }
        else if (headerSize >= 40 && data.Length >= fileHeaderLength + 36)
        {
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(data[(fileHeaderLength + 14)..]);
            colours = BinaryPrimitives.ReadInt32LittleEndian(data[(fileHeaderLength + 32)..]);
            entrySize = 4;
        }
        else
        {
            return null;
        }

        if (bitsPerPixel > 8)
        {
            return null;
        }

        if (colours <= 0)
        {
            colours = 1 << bitsPerPixel;
        }

        int paletteStart = fileHeaderLength + headerSize;
        if (colours > 256 || paletteStart + (colours * entrySize) > data.Length)
        {
            return PillowMode.Palette;
        }

        var palette = data.Slice(paletteStart, colours * entrySize);
        if (colours == 2)
        {
            bool blackWhite = palette[0] == 0 && palette[1] == 0 && palette[2] == 0
                && palette[entrySize] == 255 && palette[entrySize + 1] == 255 && palette[entrySize + 2] == 255;
            return blackWhite ? PillowMode.Bilevel : PillowMode.Palette;
        }

        return IsIdentityGreyRamp(palette, entrySize, colours) ? PillowMode.Grey : PillowMode.Palette;
    }

    private static bool IsIdentityGreyRamp(ReadOnlySpan<byte> palette, int entrySize, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var entry = palette.Slice(i * entrySize, 3);
            if (entry[0] != i || entry[1] != i || entry[2] != i)
            {
                return false;
            }
        }

        return true;
    }
}
