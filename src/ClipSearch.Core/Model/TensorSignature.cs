using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ClipSearch.Core.Model;

/// <summary>One input or output of an ONNX graph, as its session metadata declares it.</summary>
/// <param name="Name">Name in the graph.</param>
/// <param name="ElementType">Element type (float, float16, int64, …).</param>
/// <param name="Dimensions">Dimensions; symbolic ones are given by name (e.g. <c>batch_size</c>).</param>
public sealed record TensorSignature(string Name, string ElementType, IReadOnlyList<string> Dimensions)
{
    /// <summary>Shape as text, e.g. <c>float32[batch_size, 3, 224, 224]</c>.</summary>
    public override string ToString() => $"{ElementType}[{string.Join(", ", Dimensions)}]";

    internal static TensorSignature From(string name, NodeMetadata metadata)
    {
        var dims = metadata.Dimensions.Select((d, i) =>
            d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : metadata.SymbolicDimensions.Length > i && !string.IsNullOrEmpty(metadata.SymbolicDimensions[i])
                    ? metadata.SymbolicDimensions[i] : "?");
        var type = metadata.IsTensor ? TypeName(metadata.ElementDataType) : metadata.OnnxValueType.ToString();
        return new TensorSignature(name, type, [.. dims]);
    }

    private static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        _ => type.ToString().ToLowerInvariant(),
    };
}

/// <summary>The inputs and outputs of one ONNX file.</summary>
/// <param name="File">Path relative to the model folder, e.g. <c>onnx/text_model.onnx</c>.</param>
/// <param name="Inputs">Graph inputs.</param>
/// <param name="Outputs">Graph outputs.</param>
public sealed record GraphSignature(string File, IReadOnlyList<TensorSignature> Inputs, IReadOnlyList<TensorSignature> Outputs);
