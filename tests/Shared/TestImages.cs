using System.Buffers.Binary;
using System.IO.Compression;

namespace ClipSearch.Tests;

/// <summary>Images made on the spot for tests and benchmarks (also linked into bench/ClipSearch.LibraryBench).</summary>
internal static class TestImages
{
    /// <summary>Writes a small 24-bit BMP whose pixels depend on <paramref name="seed"/> (every seed a distinct image).</summary>
    public static void WriteBmp(string path, int seed, int size = 32)
    {
        var row = (size * 3 + 3) & ~3;
        var bytes = new byte[54 + row * size];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), size);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), size);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        new Random(seed).NextBytes(bytes.AsSpan(54));
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// An RGB PNG of one colour, <paramref name="width"/> × <paramref name="height"/>, written row by row (a
    /// 10000 × 10000 one is about 300 KB and never exists decoded in the test process).
    /// </summary>
    public static byte[] SolidPng(int width, int height, byte red = 200, byte green = 120, byte blue = 40)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bits per channel
        header[9] = 2;   // RGB
        PngChunks.Write(file, "IHDR", header);
        var row = new byte[1 + (3 * width)];   // filter byte 0 ("none"), then the pixels
        for (int x = 0; x < width; x++)
        {
            row[1 + (3 * x)] = red;
            row[2 + (3 * x)] = green;
            row[3 + (3 * x)] = blue;
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        PngChunks.Write(file, "IDAT", compressed.ToArray());
        PngChunks.Write(file, "IEND", []);
        return file.ToArray();
    }
}
