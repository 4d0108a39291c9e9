using System.Buffers.Binary;
using System.Text;

namespace ClipSearch.Tests;

/// <summary>PNG chunks for the images the tests write: length, type, data and the CRC-32 of type and data.</summary>
internal static class PngChunks
{
    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    /// <summary>Writes one chunk of <paramref name="type"/> with <paramref name="data"/>.</summary>
    public static void Write(Stream file, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        file.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        file.Write(word);
    }

    /// <summary>The CRC-32 PNG uses (that of zlib).</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }
}
