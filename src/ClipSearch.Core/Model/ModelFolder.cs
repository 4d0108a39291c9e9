using ClipSearch.Core.Tokenization;

namespace ClipSearch.Core.Model;

/// <summary>How the ONNX graphs of a folder are laid out.</summary>
public enum ModelLayout
{
    /// <summary>Split when both split files exist, else combined.</summary>
    Auto,

    /// <summary><c>onnx/text_model*.onnx</c> and <c>onnx/vision_model*.onnx</c> (cheaper: each query runs one encoder).</summary>
    Split,

    /// <summary>One <c>onnx/model*.onnx</c> with both encoders (each run also feeds the other encoder a minimal input).</summary>
    Combined,
}

/// <summary>
/// The files of a model folder in the Hugging Face / Xenova layout, found and checked before any session starts,
/// so that a missing or mismatched file is reported by name. This is the one place that resolves them: every file a
/// load will read (config.json, preprocessor_config.json, the tokenizer files, model.safetensors, the ONNX graphs and
/// their external data) is checked here to be a regular file, or a link to one, of a sane size — a FIFO or a link
/// to a device in a model folder would otherwise hang the load (reading it waits for a writer, or never ends).
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string directory, ModelVariant variant, ModelLayout layout)
    {
        Directory = directory;
        Variant = variant;
        Layout = layout;
    }

    /// <summary>Absolute path of the folder.</summary>
    public string Directory { get; }

    /// <summary>The weights chosen.</summary>
    public ModelVariant Variant { get; }

    /// <summary><see cref="ModelLayout.Split"/> or <see cref="ModelLayout.Combined"/>, as found.</summary>
    public ModelLayout Layout { get; }

    /// <summary><c>config.json</c>.</summary>
    public string ConfigPath => Path.Combine(Directory, "config.json");

    /// <summary><c>preprocessor_config.json</c>, or null when absent (CLIP's preprocessing is then used).</summary>
    public string? PreprocessorConfigPath { get; private init; }

    /// <summary>The text encoder (split layout).</summary>
    public string? TextModelPath { get; private init; }

    /// <summary>The vision encoder (split layout).</summary>
    public string? VisionModelPath { get; private init; }

    /// <summary>Both encoders in one graph (combined layout).</summary>
    public string? CombinedModelPath { get; private init; }

    /// <summary>The tokenizer files read: vocab.json and merges.txt, or else tokenizer.json.</summary>
    public IReadOnlyList<string> TokenizerFiles { get; private init; } = [];

    /// <summary><c>model.safetensors</c> (where logit_scale is read from), or null when absent.</summary>
    public string? SafetensorsPath { get; private init; }

    /// <summary>The ONNX files used, each once.</summary>
    public IReadOnlyList<string> OnnxFiles =>
        Layout == ModelLayout.Combined ? [CombinedModelPath!] : [TextModelPath!, VisionModelPath!];

    /// <summary>
    /// Finds the files of <paramref name="variant"/> in <paramref name="directory"/>; a missing folder, config or
    /// ONNX file gives a <see cref="ModelLoadException"/> that says what is there and what to do.
    /// </summary>
    public static ModelFolder Open(string directory, ModelVariant variant = ModelVariant.Fp32, ModelLayout layout = ModelLayout.Auto)
    {
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw File.Exists(dir)
                ? new ModelLoadException(ErrorCodes.ModelFolderIsFile, $"{dir} is a file, not a model folder (the one holding config.json and onnx/).", [dir])
                : new ModelLoadException($"Model folder {dir} does not exist.");
        }

        if (!File.Exists(Path.Combine(dir, "config.json")))
        {
            throw new ModelLoadException($"{Path.Combine(dir, "config.json")} is missing: {dir} is not a model folder in the Hugging Face layout (config.json, tokenizer files, preprocessor_config.json, onnx/).");
        }

        var text = OnnxFileNames.InFolder(dir, OnnxFileNames.Text(variant));
        var vision = OnnxFileNames.InFolder(dir, OnnxFileNames.Vision(variant));
        var combined = OnnxFileNames.InFolder(dir, OnnxFileNames.Combined(variant));
        var hasSplit = File.Exists(text) && File.Exists(vision);
        var hasCombined = File.Exists(combined);

        var chosen = layout switch
        {
            ModelLayout.Split when hasSplit => ModelLayout.Split,
            ModelLayout.Combined when hasCombined => ModelLayout.Combined,
            ModelLayout.Auto when hasSplit => ModelLayout.Split,
            ModelLayout.Auto when hasCombined => ModelLayout.Combined,
            _ => throw MissingOnnx(dir, variant, layout, text, vision, combined),
        };

        var preprocessor = Path.Combine(dir, "preprocessor_config.json");
        var safetensors = Path.Combine(dir, "model.safetensors");
        var folder = new ModelFolder(dir, variant, chosen)
        {
            PreprocessorConfigPath = File.Exists(preprocessor) ? preprocessor : null,
            TokenizerFiles = ClipVocabulary.FilesIn(dir),
            SafetensorsPath = File.Exists(safetensors) ? safetensors : null,
            TextModelPath = chosen == ModelLayout.Split ? text : null,
            VisionModelPath = chosen == ModelLayout.Split ? vision : null,
            CombinedModelPath = chosen == ModelLayout.Combined ? combined : null,
        };
        folder.CheckFiles();
        return folder;
    }

    /// <summary>
    /// The external-data file <paramref name="location"/> that <paramref name="onnxPath"/> names, checked to be a
    /// regular file (a <see cref="ModelLoadException"/> when it is missing or is something else).
    /// </summary>
    internal static string ExternalDataFile(string onnxPath, string location)
    {
        var dir = Path.GetDirectoryName(onnxPath)!;
        var path = Path.Combine(dir, location);
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"{onnxPath} keeps its weights in {location}, which is missing beside it (download or copy it into {dir}).");
        }

        ModelFiles.RequireRegular(path);
        return path;
    }

    /// <summary>Refuses the folder when a file it will read is not a regular file of a sane size (nothing is opened).</summary>
    private void CheckFiles()
    {
        const string TextLimit = "the 64 MB limit for a model's JSON and text files";
        ModelFiles.RequireRegular(ConfigPath, ModelFiles.MaxTextBytes, TextLimit);
        if (PreprocessorConfigPath is not null)
        {
            ModelFiles.RequireRegular(PreprocessorConfigPath, ModelFiles.MaxTextBytes, TextLimit);
        }

        foreach (var file in TokenizerFiles)
        {
            ModelFiles.RequireRegular(file, ModelFiles.MaxTextBytes, TextLimit);
        }

        if (SafetensorsPath is not null)
        {
            ModelFiles.RequireRegular(SafetensorsPath);
        }

        foreach (var file in OnnxFiles)
        {
            ModelFiles.RequireRegular(file, ModelFiles.MaxOnnxBytes,
                "the 2 GB one ONNX file can hold (protobuf's limit: larger models keep their weights in external data files)");
        }
    }

    /// <summary>Every file of the folder that the model uses, with its size in bytes (ONNX external data included).</summary>
    public IReadOnlyList<(string Path, long Bytes)> Files(IEnumerable<string> externalDataFiles)
    {
        var paths = new List<string> { ConfigPath };
        if (PreprocessorConfigPath is not null)
        {
            paths.Add(PreprocessorConfigPath);
        }

        foreach (var name in new[] { "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json" })
        {
            var p = Path.Combine(Directory, name);
            if (File.Exists(p))
            {
                paths.Add(p);
            }
        }

        paths.AddRange(OnnxFiles);
        paths.AddRange(externalDataFiles);
        return [.. paths.Distinct().Select(p => (p, File.Exists(p) ? new FileInfo(p).Length : 0L))];
    }

    private static ModelLoadException MissingOnnx(string dir, ModelVariant variant, ModelLayout layout, string text, string vision, string combined)
    {
        var onnxDir = Path.Combine(dir, OnnxFileNames.Folder);
        var found = System.IO.Directory.Exists(onnxDir)
            ? System.IO.Directory.GetFiles(onnxDir, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()
            : [];
        var wanted = layout switch
        {
            ModelLayout.Split => $"{Path.GetFileName(text)} and {Path.GetFileName(vision)}",
            ModelLayout.Combined => Path.GetFileName(combined),
            _ => $"{Path.GetFileName(text)} + {Path.GetFileName(vision)}, or {Path.GetFileName(combined)}",
        };
        var half = File.Exists(text) != File.Exists(vision)
            ? $" ({Path.GetFileName(File.Exists(text) ? vision : text)} is missing beside {Path.GetFileName(File.Exists(text) ? text : vision)})"
            : "";
        var missing = $"No {variant.Name()} model in {onnxDir}: expected {wanted}{half}.";
        if (found.Length == 0)
        {
            return new ModelLoadException($"{missing} {onnxDir} holds no .onnx files.");
        }

        var held = string.Join(", ", found);
        return new ModelLoadException(ErrorCodes.ModelVariantMissing, $"{missing} It holds: {held}.", [onnxDir, variant.Name(), held]);
    }
}
