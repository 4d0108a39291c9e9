using System.Runtime.InteropServices;

namespace ClipSearch.Library.Storage;

/// <summary>Embeddings as bytes: float32, little-endian (the machines .NET runs on), as SQLite BLOBs.</summary>
internal static class VectorBytes
{
    public static byte[] ToBytes(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();

    public static void CopyTo(ReadOnlySpan<byte> bytes, Span<float> target) => MemoryMarshal.Cast<byte, float>(bytes).CopyTo(target);
}
