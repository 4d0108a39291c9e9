using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace ClipSearch.Core.Similarity;

/// <summary>
/// Label embeddings (ensembled, as <see cref="ZeroShotClassifier"/> makes them) kept on disk, so that a big label
/// set — ImageNet's 1,000 classes × 80 templates — is embedded once per model, not once per process. One file per
/// (model identity, name, labels, templates) in <see cref="Folder"/>: <c>{name}-{sha256 of the key, 16 hex}.bin</c>
/// holding a header (magic, version, count, dimension), the floats (little-endian) and a sha256 of all that. A file
/// that is short, long, of another shape or whose checksum fails is ignored (and rewritten by the caller).
/// </summary>
public sealed class LabelEmbeddingCache(string folder)
{
    private const uint Magic = 0x45_4C_53_43; // "CSLE" little-endian
    private const int Version = 1;
    private const int HeaderBytes = 16;
    private const int ChecksumBytes = 32;

    /// <summary>The folder holding the files.</summary>
    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>The file for a label set; <paramref name="name"/> (a preset's name) only makes it readable.</summary>
    public string PathFor(string modelIdentity, string name, IReadOnlyList<string> labels, IReadOnlyList<string> templates)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        // Each item prefixed by its length: ("a\nb", "c") and ("a", "b\nc") stay apart.
        static string Items(IReadOnlyList<string> items) => $"{items.Count}:" + string.Concat(items.Select(i => $"{i.Length}:{i}"));
        var key = $"{Version}\n{modelIdentity}\n{Items(labels)}\n{Items(templates)}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var safeName = new string([.. (name ?? "labels").ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_')]);
        return Path.Combine(Folder, $"{safeName}-{hash}.bin");
    }

    /// <summary>
    /// The <paramref name="count"/> embeddings of <paramref name="dimension"/> floats in <paramref name="path"/>, or
    /// null when the file is absent or not exactly that (truncated, corrupt, another shape, not finite).
    /// </summary>
    public static float[][]? TryRead(string path, int count, int dimension)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var payload = HeaderBytes + (long)count * dimension * sizeof(float);
        if (bytes.LongLength != payload + ChecksumBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != Version
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)) != count
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)) != dimension
            || !SHA256.HashData(bytes.AsSpan(0, (int)payload)).AsSpan().SequenceEqual(bytes.AsSpan((int)payload)))
        {
            return null;
        }

        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(HeaderBytes, (int)payload - HeaderBytes));
        if (!BitConverter.IsLittleEndian || !AllFinite(floats))
        {
            return null;
        }

        var embeddings = new float[count][];
        for (var i = 0; i < count; i++)
        {
            embeddings[i] = floats.Slice(i * dimension, dimension).ToArray();
        }

        return embeddings;
    }

    /// <summary>Writes <paramref name="embeddings"/> (all of one length) to <paramref name="path"/> atomically (a temporary file renamed into place).</summary>
    public static void Write(string path, IReadOnlyList<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var dimension = embeddings.Count == 0 ? 0 : embeddings[0].Length;
        var payload = HeaderBytes + embeddings.Count * dimension * sizeof(float);
        var bytes = new byte[payload + ChecksumBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), embeddings.Count);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), dimension);
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(HeaderBytes, payload - HeaderBytes));
        for (var i = 0; i < embeddings.Count; i++)
        {
            if (embeddings[i].Length != dimension)
            {
                throw new ArgumentException("Every embedding must have the same length.", nameof(embeddings));
            }

            embeddings[i].CopyTo(floats.Slice(i * dimension, dimension));
        }

        SHA256.HashData(bytes.AsSpan(0, payload), bytes.AsSpan(payload));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }
}
