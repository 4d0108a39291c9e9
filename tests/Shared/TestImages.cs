using System.Buffers.Binary;

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
}
