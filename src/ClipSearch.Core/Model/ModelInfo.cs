using Microsoft.ML.OnnxRuntime;

namespace ClipSearch.Core.Model;

/// <summary>Everything known about a loaded model, for the CLI's info command and the web UI's model page.</summary>
/// <param name="Directory">The model folder.</param>
/// <param name="Variant">fp32, quantized or fp16.</param>
/// <param name="Layout">split or combined.</param>
/// <param name="ProjectionDim">Embedding length.</param>
/// <param name="Text">Text transformer shape.</param>
/// <param name="Vision">Vision transformer shape.</param>
/// <param name="ContextLength">Tokens per text, start and end included.</param>
/// <param name="VocabularySize">Tokens in the vocabulary.</param>
/// <param name="ImageSize">Side of the image the model sees.</param>
/// <param name="PatchSize">Side of one patch.</param>
/// <param name="LogitScale">exp(logit_scale).</param>
/// <param name="LogitScaleSource">Where <paramref name="LogitScale"/> came from.</param>
/// <param name="Parameters">Parameters per ONNX file (summed from its initializers) and in total.</param>
/// <param name="Files">Files used, relative to the folder, with sizes in bytes.</param>
/// <param name="Signatures">Inputs and outputs of each graph.</param>
/// <param name="OnnxRuntimeVersion">ONNX Runtime's version.</param>
/// <param name="ExecutionProviders">Execution providers this ONNX Runtime build offers.</param>
/// <param name="Threads">Intra-op threads per session.</param>
/// <param name="BatchSize">Inputs per inference call.</param>
/// <param name="LoadMilliseconds">Time the load took.</param>
public sealed record ModelInfo(
    string Directory,
    string Variant,
    string Layout,
    int ProjectionDim,
    EncoderConfig Text,
    EncoderConfig Vision,
    int ContextLength,
    int VocabularySize,
    int ImageSize,
    int PatchSize,
    float LogitScale,
    string LogitScaleSource,
    IReadOnlyDictionary<string, long> Parameters,
    IReadOnlyList<FileEntry> Files,
    IReadOnlyList<GraphSignature> Signatures,
    string OnnxRuntimeVersion,
    IReadOnlyList<string> ExecutionProviders,
    int Threads,
    int BatchSize,
    double LoadMilliseconds)
{
    /// <summary>Describes <paramref name="model"/>.</summary>
    public static ModelInfo Of(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folder = model.Folder;
        var parameters = new Dictionary<string, long>(StringComparer.Ordinal);
        var external = new List<string>();
        for (var i = 0; i < folder.OnnxFiles.Count; i++)
        {
            var path = folder.OnnxFiles[i];
            parameters[Path.GetRelativePath(folder.Directory, path)] = model.OnnxFiles[i].ParameterCount;
            external.AddRange(model.OnnxFiles[i].ExternalDataFiles.Select(f => Path.Combine(Path.GetDirectoryName(path)!, f)));
        }

        parameters["total"] = model.OnnxFiles.Sum(f => f.ParameterCount);
        var env = OrtEnv.Instance();
        return new ModelInfo(
            folder.Directory,
            folder.Variant.Name(),
            folder.Layout.ToString().ToLowerInvariant(),
            model.Config.ProjectionDim,
            model.Config.Text,
            model.Config.Vision,
            model.Config.ContextLength,
            model.Config.VocabularySize,
            model.Config.ImageSize,
            model.Config.PatchSize,
            model.LogitScale.Value,
            model.LogitScale.Source,
            parameters,
            [.. folder.Files(external).Select(f => new FileEntry(Path.GetRelativePath(folder.Directory, f.Path), f.Bytes))],
            model.Signatures,
            env.GetVersionString(),
            env.GetAvailableProviders(),
            model.Options.Threads,
            model.Options.BatchSize,
            Math.Round(model.LoadTime.TotalMilliseconds, 1));
    }
}

/// <summary>A file and its size.</summary>
/// <param name="Path">Path relative to the model folder.</param>
/// <param name="Bytes">Size in bytes.</param>
public sealed record FileEntry(string Path, long Bytes);
