using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ClipSearch.Core.Model;

/// <summary>
/// Names the weights a loaded model runs, for caches of what it computed: a sha256 over the variant, the layout and
/// each ONNX file it uses (with its external data files) by full path, size and modification time. A file that is
/// replaced or touched gives a new identity; hashing the weights themselves would cost seconds per load.
/// </summary>
public static class ModelIdentity
{
    /// <summary>The identity of <paramref name="model"/>'s files, as 64 hex digits.</summary>
    public static string Of(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{model.Folder.Variant}\n{model.Folder.Layout}\n");
        foreach (var onnx in model.Folder.OnnxFiles)
        {
            var directory = Path.GetDirectoryName(onnx)!;
            var name = Path.GetFileName(onnx);
            // The graph and its external data (text_model.onnx_data, text_model.onnx.data, …) beside it.
            foreach (var file in Directory.EnumerateFiles(directory, name + "*").Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                text.Append(CultureInfo.InvariantCulture, $"{info.FullName}\n{info.Length}\n{info.LastWriteTimeUtc.Ticks}\n");
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
