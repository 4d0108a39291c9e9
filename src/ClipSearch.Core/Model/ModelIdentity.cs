using System.Security.Cryptography;

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
    public static string FilesSignature(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return string.Join('\n', OnnxFilesOf(folder).Select(f => new FileInfo(f)).Select(f => $"{f.FullName}|{f.Length}|{f.LastWriteTimeUtc.Ticks}"));
    }

    /// <summary>
    /// A key for caches of what a loaded model computed (e.g. zero-shot label embeddings): SHA-256 over the variant,
    /// the layout and <see cref="FilesSignature"/>. A replaced or touched file gives a new key; unlike
    /// <see cref="Hash"/> it costs no reading of the weights.
    /// </summary>
    public static string CacheKey(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = $"{model.Folder.Variant}\n{model.Folder.Layout}\n{FilesSignature(model.Folder)}";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Hashes the ONNX files of <paramref name="model"/> (about 1 s per GB).</summary>
    public static ModelIdentity Of(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Of(model.Folder, model.EmbeddingDim);
    }

    /// <summary>Hashes the ONNX files of <paramref name="folder"/> and the external-data files beside them.</summary>
    public static ModelIdentity Of(ModelFolder folder, int embeddingDim)
    {
        ArgumentNullException.ThrowIfNull(folder);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in OnnxFilesOf(folder))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }
        }

        return new ModelIdentity(Convert.ToHexStringLower(sha.GetHashAndReset()), folder.Variant.Name(), embeddingDim);
    }

    /// <summary>Each ONNX file followed by its external-data files.</summary>
    private static IEnumerable<string> OnnxFilesOf(ModelFolder folder)
    {
        foreach (var onnx in folder.OnnxFiles)
        {
            yield return onnx;
            foreach (var data in Directory.EnumerateFiles(Path.GetDirectoryName(onnx)!, Path.GetFileName(onnx) + "_data*").Order(StringComparer.Ordinal))
            {
                yield return data;
            }
        }
    }
}
