using System.Buffers.Binary;
using System.IO.Compression;

namespace ClipSearch.Core.Tests.Imaging;

/// <summary>Small hand-made PNG and GIF files for tests (Skia cannot write palettes or GIFs).</summary>
internal static class TestEncoders
{
    /// <summary>A PNG of one colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA), 8 bits, unfiltered rows.</summary>
    public static byte[] Png(int width, int height, byte colourType, byte[] pixels, byte[]? palette = null, byte[]? transparency = null)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = colourType;
        PngChunks.Write(file, "IHDR", header);
        if (palette is not null)
        {
            PngChunks.Write(file, "PLTE", palette);
        }

        if (transparency is not null)
        {
            PngChunks.Write(file, "tRNS", transparency);
        }

        int rowBytes = pixels.Length / height;
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(pixels, y * rowBytes, rowBytes);
            }
        }

        PngChunks.Write(file, "IDAT", raw.ToArray());
        PngChunks.Write(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>A PNG whose header claims <paramref name="width"/> × <paramref name="height"/> RGB but holds almost no data.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var full = Png(1, 1, 2, [1, 2, 3]);
        BinaryPrimitives.WriteInt32BigEndian(full.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(full.AsSpan(20), height);
        // Keep the header's CRC right so that the header itself is readable.
        BinaryPrimitives.WriteUInt32BigEndian(full.AsSpan(29), PngChunks.Crc32(full.AsSpan(12, 17)));
        return full;
    }

    /// <summary>
    /// A one-frame GIF with a global palette; LZW with 8-bit codes and a clear code every 100 pixels, so that the
    /// code width stays 9 bits (valid, just not compressed).
    /// </summary>
    public static byte[] Gif(int width, int height, byte[] palette256, byte[] indices, int? transparentIndex = null)
    {
        using var file = new MemoryStream();
        file.Write("GIF89a"u8);
        WriteUInt16(file, width);
        WriteUInt16(file, height);
        file.Write([0xF7, 0, 0]); // global palette of 256 entries
        file.Write(palette256);
        if (transparentIndex is int t)
        {
            file.Write([0x21, 0xF9, 4, 1, 0, 0, (byte)t, 0]);
        }

        file.WriteByte((byte)',');
        WriteUInt16(file, 0);
        WriteUInt16(file, 0);
        WriteUInt16(file, width);
        WriteUInt16(file, height);
        file.WriteByte(0);

        const int minimumCodeSize = 8;
        const int clear = 256;
        const int end = 257;
        var codes = new List<int> { clear };
        for (int i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % 100 == 0)
            {
                codes.Add(clear);
            }

            codes.Add(indices[i]);
        }

        codes.Add(end);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (int code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8)
            {
                packed.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }

        if (bits > 0)
        {
            packed.Add((byte)buffer);
        }

        file.WriteByte(minimumCodeSize);
        for (int i = 0; i < packed.Count; i += 255)
        {
            int n = Math.Min(255, packed.Count - i);
            file.WriteByte((byte)n);
            file.Write(packed.GetRange(i, n).ToArray());
        }

        file.WriteByte(0);
        file.WriteByte((byte)';');
        return file.ToArray();
    }

    private static void WriteUInt16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
