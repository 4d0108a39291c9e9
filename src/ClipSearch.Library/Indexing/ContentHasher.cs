using System.Security.Cryptography;

namespace ClipSearch.Library.Indexing;

/// <summary>
/// SHA-256 of a file's bytes: how a moved, renamed or copied file is recognised without inference. SHA-256 rather
/// than a faster non-cryptographic hash (xxHash) because it is built into .NET (no dependency), runs at about
/// 1–2 GB/s with the CPU's SHA instructions — far above image decoding, so never the bottleneck — and because
/// a collision would silently give one photo another's embedding, which a 256-bit cryptographic hash rules out.
/// </summary>
public static class ContentHasher
{
    /// <summary>Lower-case hex SHA-256 of the file at <paramref name="path"/>.</summary>
    public static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
