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
/// An embedding cut short (cancelled, or the process stopped) leaves <c>{that file}.partial</c> in the same format
/// holding the first labels done, which the next embedding of the set starts from.
/// </summary>
public sealed class LabelEmbeddingCache(string folder)
{
    /// <summary>The cache's folder inside <see cref="ClipSearchHome.Cache"/>, for every front end.</summary>
    public const string FolderName = "zero-shot";

    /// <summary>How the file of a label set being embedded ends (beside the complete file's name).</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>How often, at most, an embedding in progress saves what it has done (besides when it is cancelled).</summary>
    public static readonly TimeSpan PartialSaveInterval = TimeSpan.FromSeconds(10);

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

    /// <summary>Whether the complete file of a label set is there (not checked: <see cref="TryRead"/> checks).</summary>
    public bool Has(string modelIdentity, string name, IReadOnlyList<string> labels, IReadOnlyList<string> templates) =>
        File.Exists(PathFor(modelIdentity, name, labels, templates));

    /// <summary>
    /// The ensembled embeddings of a named label set (a preset) and where they came from: the complete file; else
    /// embedded through <paramref name="classifier"/>, starting after the labels a <see cref="PartialSuffix"/> file
    /// holds, in chunks of about <paramref name="promptsPerChunk"/> prompts (whole labels), with progress after each.
    /// Cancelled between chunks, it saves the labels done to the partial file before it throws; done, it writes the
    /// complete file and removes the partial one. Either way the embeddings are put into the classifier's cache.
    /// A file that cannot be written costs time on the next run, nothing else (<paramref name="cannotWrite"/> hears of it).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (what was done is saved).</exception>
    public (LabelEmbeddingSource Source, float[][] Embeddings) GetOrEmbed(ZeroShotClassifier classifier, string modelIdentity, int dimension,
        string name, IReadOnlyList<string> labels, IReadOnlyList<string> templates, IProgress<ZeroShotProgress>? progress, CancellationToken cancellationToken,
        int promptsPerChunk = ZeroShotClassifier.PromptsPerChunk, Action<string, Exception>? cannotWrite = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(templates);
        var path = PathFor(modelIdentity, name, labels, templates);
        if (TryRead(path, labels.Count, dimension) is { } stored)
        {
            classifier.Remember(labels, templates, stored);
            return (LabelEmbeddingSource.Disk, stored);
        }

        var partialPath = path + PartialSuffix;
        var done = new List<float[]>(labels.Count);
        if (TryReadPrefix(partialPath, labels.Count, dimension) is { } prefix)
        {
            done.AddRange(prefix);
            classifier.Remember([.. labels.Take(done.Count)], templates, done);
        }

        var saved = done.Count;
        var lastSave = System.Diagnostics.Stopwatch.StartNew();
        void SavePartial()
        {
            if (done.Count > saved && TryWrite(partialPath, done, cannotWrite))
            {
                saved = done.Count;
                lastSave.Restart();
            }
        }

        var total = labels.Count * templates.Count;
        var labelsPerChunk = Math.Max(1, Math.Max(1, promptsPerChunk) / Math.Max(1, templates.Count));
        progress?.Report(new ZeroShotProgress(done.Count * templates.Count, total));
        try
        {
            while (done.Count < labels.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = labels.Skip(done.Count).Take(labelsPerChunk).ToArray();
                done.AddRange(classifier.LabelEmbeddings(chunk, templates, null, CancellationToken.None));
                progress?.Report(new ZeroShotProgress(done.Count * templates.Count, total));
                if (lastSave.Elapsed >= PartialSaveInterval && done.Count < labels.Count)
                {
                    SavePartial();
                }
            }
        }
        catch (OperationCanceledException)
        {
            SavePartial();
            throw;
        }

        var embeddings = done.ToArray();
        classifier.Remember(labels, templates, embeddings);
        if (TryWrite(path, embeddings, cannotWrite))
        {
            File.Delete(partialPath);
        }

        return (LabelEmbeddingSource.Computed, embeddings);
    }

    /// <summary>
    /// The <paramref name="count"/> embeddings of <paramref name="dimension"/> floats in <paramref name="path"/>, or
    /// null when the file is absent or not exactly that (truncated, corrupt, another shape, not finite).
    /// </summary>
    public static float[][]? TryRead(string path, int count, int dimension) => Read(path, count, count, dimension);

    /// <summary>
    /// The embeddings in <paramref name="path"/> when it holds between 1 and <paramref name="maxCount"/> of
    /// <paramref name="dimension"/> floats (the first labels of a set, as a <see cref="PartialSuffix"/> file does), else null.
    /// </summary>
    public static float[][]? TryReadPrefix(string path, int maxCount, int dimension) => Read(path, 1, maxCount, dimension);

    private static float[][]? Read(string path, int minCount, int maxCount, int dimension)
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

        if (bytes.Length < HeaderBytes + ChecksumBytes)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        if (count < minCount || count > maxCount)
        {
            return null;
        }

        var payload = HeaderBytes + (long)count * dimension * sizeof(float);
        if (bytes.LongLength != payload + ChecksumBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != Version
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

    private static bool TryWrite(string path, IReadOnlyList<float[]> embeddings, Action<string, Exception>? cannotWrite)
    {
        try
        {
            Write(path, embeddings);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            cannotWrite?.Invoke(path, e);
            return false;
        }
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

/// <summary>Where a label set's embeddings came from.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<LabelEmbeddingSource>))]
public enum LabelEmbeddingSource
{
    /// <summary>The loaded model's classifier had them (embedded earlier in this process).</summary>
    Memory,

    /// <summary>Read from the disk cache (a preset embedded by an earlier run with the same model files).</summary>
    Disk,

    /// <summary>Embedded now (and, for a preset, written to the disk cache).</summary>
    Computed,
}
