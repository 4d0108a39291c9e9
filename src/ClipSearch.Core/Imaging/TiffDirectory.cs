using System.Buffers.Binary;

namespace ClipSearch.Core.Imaging;

/// <summary>The entries of a TIFF file's first directory (IFD0), read from its bytes: what the sniffer and the TIFF orientation need.</summary>
internal static class TiffDirectory
{
    /// <summary>TIFF's orientation tag (EXIF's numbers, 1–8).</summary>
    public const ushort OrientationTag = 0x112;

    private const int HeaderBytes = 8;
    private const int EntryBytes = 12;
    private const ushort ShortType = 3;

    /// <summary>One entry: its tag, its first value (a SHORT's or a LONG's) and where that value is in the file.</summary>
    public readonly record struct Entry(ushort Tag, int Value, int ValueOffset, bool IsShort);

    /// <summary>The entries of the first directory that lie within <paramref name="bytes"/> (none when it is not a TIFF).</summary>
    public static List<Entry> FirstEntries(ReadOnlySpan<byte> bytes, out bool littleEndian)
    {
        var entries = new List<Entry>();
        littleEndian = bytes.StartsWith("II"u8);
        if (bytes.Length < HeaderBytes || (!littleEndian && !bytes.StartsWith("MM"u8)))
        {
            return entries;
        }

        var little = littleEndian;
        uint offset = Read32(bytes[4..], little);
        if (offset < HeaderBytes || offset + 2 > (uint)bytes.Length)
        {
            return entries;
        }

        int count = Read16(bytes[(int)offset..], little);
        for (int i = 0; i < count; i++)
        {
            var at = (int)offset + 2 + (i * EntryBytes);
            if (at + EntryBytes > bytes.Length)
            {
                break;
            }

            var entry = bytes.Slice(at, EntryBytes);
            bool isShort = Read16(entry[2..], little) == ShortType;
            int value = isShort ? Read16(entry[8..], little) : (int)Read32(entry[8..], little);
            entries.Add(new Entry(Read16(entry, little), value, at + 8, isShort));
        }

        return entries;
    }

    /// <summary>The orientation (1–8) the first directory gives; 1 when it gives none.</summary>
    public static int OrientationOf(ReadOnlySpan<byte> bytes)
    {
        foreach (var entry in FirstEntries(bytes, out _))
        {
            if (entry.Tag == OrientationTag && entry.IsShort && entry.Value is > 1 and <= 8)
            {
                return entry.Value;
            }
        }

        return 1;
    }

    /// <summary>
    /// The orientation (1–8) the first directory gives, and a copy of <paramref name="bytes"/> in which it says 1
    /// (null when it says 1 already, or nothing). libtiff's generic reader (used by ImageMagick for YCbCr, old-style
    /// JPEG and some other TIFFs) half-applies a non-normal orientation (its flips, not its transpose), while its strip
    /// reader applies none: read as upright, every TIFF is then turned by the one orientation step, as EXIF's.
    /// </summary>
    public static (int Orientation, byte[]? Upright) WithoutOrientation(ReadOnlySpan<byte> bytes)
    {
        foreach (var entry in FirstEntries(bytes, out var little))
        {
            if (entry.Tag == OrientationTag && entry.IsShort && entry.Value is > 1 and <= 8)
            {
                var copy = bytes.ToArray();
                if (little)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(entry.ValueOffset), 1);
                }
                else
                {
                    BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(entry.ValueOffset), 1);
                }

                return (entry.Value, copy);
            }
        }

        return (1, null);
    }

    private static ushort Read16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint Read32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);
}
