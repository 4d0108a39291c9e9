namespace ClipSearch.Core.Model;

/// <summary>
/// The one place that knows what the ONNX graphs of a model folder are called, per variant and layout (the Hugging
/// Face / Xenova layout): split, <c>onnx/text_model{suffix}.onnx</c> and <c>onnx/vision_model{suffix}.onnx</c>;
/// combined, <c>onnx/model{suffix}.onnx</c> (suffix: <see cref="ModelVariants.FileSuffix"/>). Names are relative to the
/// folder, with <c>/</c> (as the Hub names them); <see cref="InFolder"/> makes a local path of one.
/// </summary>
public static class OnnxFileNames
{
    /// <summary>The folder of the graphs inside a model folder.</summary>
    public const string Folder = "onnx";

    /// <summary>The text encoder of the split layout: <c>onnx/text_model{suffix}.onnx</c>.</summary>
    public static string Text(ModelVariant variant) => Graph("text_model", variant);

    /// <summary>The vision encoder of the split layout: <c>onnx/vision_model{suffix}.onnx</c>.</summary>
    public static string Vision(ModelVariant variant) => Graph("vision_model", variant);

    /// <summary>Both encoders in one graph (combined layout): <c>onnx/model{suffix}.onnx</c>.</summary>
    public static string Combined(ModelVariant variant) => Graph("model", variant);

    /// <summary>The graphs of <paramref name="variant"/> in <paramref name="layout"/> (split or combined).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is <see cref="ModelLayout.Auto"/>.</exception>
    public static IReadOnlyList<string> Of(ModelVariant variant, ModelLayout layout) => layout switch
    {
        ModelLayout.Split => [Text(variant), Vision(variant)],
        ModelLayout.Combined => [Combined(variant)],
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Split or Combined."),
    };

    /// <summary>The local path of <paramref name="name"/> (relative, with <c>/</c>) inside <paramref name="directory"/>.</summary>
    public static string InFolder(string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Path.Combine(directory, name.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <summary>
    /// The layout in which <paramref name="directory"/> holds <paramref name="variant"/>: split when both split graphs
    /// exist, else combined when its graph does; null when neither (existence only: nothing is checked or opened).
    /// </summary>
    public static ModelLayout? Find(string directory, ModelVariant variant) =>
        Of(variant, ModelLayout.Split).All(n => File.Exists(InFolder(directory, n))) ? ModelLayout.Split
        : File.Exists(InFolder(directory, Combined(variant))) ? ModelLayout.Combined
        : null;

    private static string Graph(string stem, ModelVariant variant) => $"{Folder}/{stem}{variant.FileSuffix()}.onnx";
}
