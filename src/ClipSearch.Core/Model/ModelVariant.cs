namespace ClipSearch.Core.Model;

/// <summary>Which weights of a model folder to run; each is a set of ONNX files with its own suffix.</summary>
public enum ModelVariant
{
    /// <summary>float32 weights: <c>onnx/text_model.onnx</c>, <c>onnx/vision_model.onnx</c>.</summary>
    Fp32,

    /// <summary>dynamic 8-bit quantized weights: <c>onnx/*_quantized.onnx</c>.</summary>
    Quantized,

    /// <summary>float16 weights: <c>onnx/*_fp16.onnx</c>; inputs and outputs are converted to what the graph declares.</summary>
    Fp16,
}

/// <summary>Names and file suffixes of <see cref="ModelVariant"/>.</summary>
public static class ModelVariants
{
    /// <summary>The file-name suffix of a variant in the Hugging Face / Xenova layout.</summary>
    public static string FileSuffix(this ModelVariant variant) => variant switch
    {
        ModelVariant.Fp32 => "",
        ModelVariant.Quantized => "_quantized",
        ModelVariant.Fp16 => "_fp16",
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    /// <summary>The name used on the command line and in JSON: fp32, quantized, fp16.</summary>
    public static string Name(this ModelVariant variant) => variant.ToString().ToLowerInvariant();

    /// <summary>Parses fp32 | quantized | fp16 (also q8, int8, uint8 for quantized and float32/float16).</summary>
    public static ModelVariant Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "" => ModelVariant.Fp32,
        "quantized" or "q8" or "int8" or "uint8" => ModelVariant.Quantized,
        "fp16" or "float16" => ModelVariant.Fp16,
        _ => throw new ClipSearchException($"Unknown model variant '{text}': use fp32, quantized or fp16."),
    };
}
