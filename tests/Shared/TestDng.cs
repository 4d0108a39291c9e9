using System.Buffers.Binary;

namespace ClipSearch.Tests;

/// <summary>
/// Writes small but real DNG files (Adobe DNG 1.4 layout, as cameras and converters write them): a first directory
/// holding a reduced-resolution preview (a baseline JPEG, NewSubFileType 1), and a sub-directory holding the raw
/// sensor data (16-bit uncompressed, an RGGB Bayer mosaic). What libraw needs to identify the file and read either.
/// </summary>
internal static class TestDng
{
    private const ushort Byte = 1;
    private const ushort Ascii = 2;
    private const ushort Short = 3;
    private const ushort Long = 4;
    private const ushort Rational = 5;
    private const ushort SRational = 10;

    /// <summary>
    /// A DNG of a <paramref name="width"/> × <paramref name="height"/> sensor whose mosaic samples are
    /// <paramref name="sample"/>(x, y, channel 0 = R, 1 = G, 2 = B), with <paramref name="previewJpeg"/> (or none)
    /// as its preview and <paramref name="orientation"/> (EXIF's 1–8) as its orientation.
    /// </summary>
    public static byte[] Write(int width, int height, Func<int, int, int, ushort> sample, byte[]? previewJpeg, int orientation = 1,
        int previewWidth = 0, int previewHeight = 0)
    {
        using var stream = new MemoryStream();
        var raw = new byte[width * height * 2];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                // RGGB: even rows R G, odd rows G B.
                int channel = (y % 2, x % 2) switch { (0, 0) => 0, (1, 1) => 2, _ => 1 };
                BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(((y * width) + x) * 2), sample(x, y, channel));
            }
        }

        var first = new List<Entry>();
        var sub = new List<Entry>
        {
            new(0x00FE, Long, 1, Le32(0)),
            new(0x0100, Long, 1, Le32((uint)width)),
            new(0x0101, Long, 1, Le32((uint)height)),
            new(0x0102, Short, 1, Le16(16)),
            new(0x0103, Short, 1, Le16(1)),
            new(0x0106, Short, 1, Le16(32803)),
            new(0x0111, Long, 1, Le32(0)) { Data = raw },
            new(0x0115, Short, 1, Le16(1)),
            new(0x0116, Long, 1, Le32((uint)height)),
            new(0x0117, Long, 1, Le32((uint)raw.Length)),
            new(0x828D, Short, 2, [.. Le16(2), .. Le16(2)]),
            new(0x828E, Byte, 4, [0, 1, 1, 2]),
            new(0xC61A, Long, 1, Le32(0)),
            new(0xC61D, Long, 1, Le32(65535)),
        };

        bool preview = previewJpeg is not null;
        first.Add(new(0x00FE, Long, 1, Le32(preview ? 1u : 0u)));
        first.Add(new(0x0100, Long, 1, Le32((uint)(preview ? previewWidth : 256))));
        first.Add(new(0x0101, Long, 1, Le32((uint)(preview ? previewHeight : 171))));
        first.Add(new(0x0102, Short, 3, [.. Le16(8), .. Le16(8), .. Le16(8)]));
        first.Add(new(0x0103, Short, 1, Le16(preview ? (ushort)7 : (ushort)1)));
        first.Add(new(0x0106, Short, 1, Le16(preview ? (ushort)6 : (ushort)2)));
        first.Add(new(0x010F, Ascii, 0, Ascii0("ClipSearch")));
        first.Add(new(0x0110, Ascii, 0, Ascii0("Test Camera")));
        if (preview)
        {
            first.Add(new(0x0111, Long, 1, Le32(0)) { Data = previewJpeg });
        }

        first.Add(new(0x0112, Short, 1, Le16((ushort)orientation)));
        first.Add(new(0x0115, Short, 1, Le16(3)));
        if (preview)
        {
            first.Add(new(0x0116, Long, 1, Le32((uint)previewHeight)));
            first.Add(new(0x0117, Long, 1, Le32((uint)previewJpeg!.Length)));
        }

        first.Add(new(0x014A, Long, 1, Le32(0)) { SubDirectory = sub });
        first.Add(new(0xC612, Byte, 4, [1, 4, 0, 0]));
        first.Add(new(0xC613, Byte, 4, [1, 1, 0, 0]));
        first.Add(new(0xC614, Ascii, 0, Ascii0("ClipSearch Test Camera")));
        first.Add(new(0xC621, SRational, 9, Matrix([1, 0, 0, 0, 1, 0, 0, 0, 1])));
        first.Add(new(0xC628, Rational, 3, Rationals([1, 1, 1])));
        first.Add(new(0xC65A, Short, 1, Le16(21)));

        // Layout: header, first directory and its values, sub-directory and its values, then the data blocks.
        var writer = new Layout();
        writer.Bytes.AddRange("II"u8.ToArray());
        writer.Bytes.AddRange(Le16(42));
        writer.Bytes.AddRange(Le32(8));
        writer.WriteDirectory(first);
        return [.. writer.Bytes];
    }

    private static byte[] Le16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Le32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Ascii0(string text) => [.. System.Text.Encoding.ASCII.GetBytes(text), 0];

    private static byte[] Matrix(int[] values) => [.. values.SelectMany(v => Le32((uint)v).Concat(Le32(1)))];

    private static byte[] Rationals(uint[] values) => [.. values.SelectMany(v => Le32(v).Concat(Le32(1)))];

    private sealed record Entry(ushort Tag, ushort Type, int Count, byte[] Value)
    {
        /// <summary>A block the entry's value points at (strip data), written after the directories.</summary>
        public byte[]? Data { get; init; }

        /// <summary>A directory the entry's value points at (SubIFDs).</summary>
        public List<Entry>? SubDirectory { get; init; }
    }

    private sealed class Layout
    {
        public List<byte> Bytes { get; } = [];

        public void WriteDirectory(List<Entry> entries)
        {
            var sorted = entries.OrderBy(e => e.Tag).ToList();
            int start = Bytes.Count;
            int valuesAt = start + 2 + (12 * sorted.Count) + 4;
            var values = new List<byte>();
            var patches = new List<(int At, Entry Entry)>();
            var directory = new List<byte>(Le16((ushort)sorted.Count));
            foreach (var entry in sorted)
            {
                int count = entry.Type == Ascii ? entry.Value.Length : entry.Count;
                directory.AddRange(Le16(entry.Tag));
                directory.AddRange(Le16(entry.Type));
                directory.AddRange(Le32((uint)count));
                if (entry.Data is not null || entry.SubDirectory is not null)
                {
                    patches.Add((start + directory.Count, entry));
                    directory.AddRange(Le32(0));
                }
                else if (entry.Value.Length <= 4)
                {
                    directory.AddRange([.. entry.Value, .. new byte[4 - entry.Value.Length]]);
                }
                else
                {
                    directory.AddRange(Le32((uint)(valuesAt + values.Count)));
                    values.AddRange(entry.Value);
                    if (values.Count % 2 == 1)
                    {
                        values.Add(0);
                    }
                }
            }

            directory.AddRange(Le32(0));   // no next directory
            Bytes.AddRange(directory);
            Bytes.AddRange(values);
            foreach (var (at, entry) in patches)
            {
                int offset = Bytes.Count;
                if (entry.SubDirectory is not null)
                {
                    WriteDirectory(entry.SubDirectory);
                }
                else
                {
                    Bytes.AddRange(entry.Data!);
                    if (Bytes.Count % 2 == 1)
                    {
                        Bytes.Add(0);
                    }
                }

                var le = Le32((uint)offset);
                for (int i = 0; i < 4; i++)
                {
                    Bytes[at + i] = le[i];
                }
            }
        }
    }
}
