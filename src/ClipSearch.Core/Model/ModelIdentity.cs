using System.Security.Cryptography;
using ClipSearch.Core.IO;

namespace ClipSearch.Core.Model;

/// <summary>
/// What makes two embeddings comparable: the SHA-256 of the model's ONNX files (names and contents, external
/// data included) and the variant. A library records it and refuses a model with another identity.
/// </summary>
/// <param name="Hash">Lower-case hex SHA-256 over the ONNX files, in <see cref="ModelFolder.OnnxFiles"/> order.</param>
/// <param name="Variant">fp32, quantized or fp16.</param>
/// <param name="EmbeddingDim">Length of the embeddings.</param>
public sealed record ModelIdentity(string Hash, string Variant, int EmbeddingDim)
{
    /// <summary>A short form for messages: the variant and the first 12 hex digits.</summary>
    public string Short => $"{Variant} {Hash[..Math.Min(12, Hash.Length)]}, {EmbeddingDim}-d";

    /// <summary>
    /// A cheap fingerprint of the ONNX files (paths, sizes, modification times): while it is unchanged, a recorded
    /// <see cref="Hash"/> still holds and the files need not be read again.
    /// </summary>
    public static string FilesSignature(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return string.Join('\n', OnnxFilesOf(model).Select(f => new FileInfo(f)).Select(f => $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"));
    }

    /// <summary>
    /// A key for caches of what a loaded model computed (e.g. zero-shot label embeddings): SHA-256 over the variant,
    /// the layout and <see cref="FilesSignature"/>. A replaced or touched file gives a new key; unlike
    /// <see cref="Hash"/> it costs no reading of the weights.
    /// </summary>
    public static string CacheKey(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = $"{model.Folder.Variant}\n{model.Folder.Layout}\n{FilesSignature(model)}";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Hashes the ONNX files of <paramref name="model"/> and their external-data files (about 1 s per GB), each read as
    /// a regular file only, within <see cref="RegularFile.DefaultTimeout"/> without data (see <see cref="RegularFile"/>).
    /// </summary>
    /// <exception cref="ModelLoadException">A file cannot be read (replaced by a FIFO or a device since the model was
    /// loaded, removed, or on a mount that stopped answering); the message names it.</exception>
    public static ModelIdentity Of(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in OnnxFilesOf(model))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            try
            {
                RegularFile.HashInto(file, sha, RegularFile.DefaultTimeout);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelLoadException($"{file} cannot be read: {e.Message}", e);
            }
        }

        return new ModelIdentity(Convert.ToHexStringLower(sha.GetHashAndReset()), model.Folder.Variant.Name(), model.EmbeddingDim);
    }

    /// <summary>Each ONNX file followed by the external-data files it names (whatever they are called).</summary>
    private static IEnumerable<string> OnnxFilesOf(ClipModel model)
    {
        for (var i = 0; i < model.Folder.OnnxFiles.Count; i++)
        {
            var onnx = model.Folder.OnnxFiles[i];
            yield return onnx;
            foreach (var data in model.OnnxFiles[i].ExternalDataFiles.Order(StringComparer.Ordinal))
            {
                yield return Path.Combine(Path.GetDirectoryName(onnx)!, data);
            }
        }
    }
}
