using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using System.Numerics.Tensors;

namespace ClipSearch.Core.Model;

/// <summary>
/// One ONNX Runtime session and what its metadata says about it. Feeds are converted to the element types the
/// graph declares (int64 or int32 ids, float32 or float16 pixels) and outputs back to float32. Thread-safe:
/// ONNX Runtime allows concurrent <c>Run</c> calls on one session.
/// </summary>
internal sealed class OnnxEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly IReadOnlyDictionary<string, NodeMetadata> _inputs;

    private OnnxEncoder(InferenceSession session, string relativePath)
    {
        _session = session;
        _inputs = session.InputMetadata;
        Signature = new GraphSignature(
            relativePath,
            [.. session.InputMetadata.Select(p => TensorSignature.From(p.Key, p.Value))],
            [.. session.OutputMetadata.Select(p => TensorSignature.From(p.Key, p.Value))]);
    }

    /// <summary>Inputs and outputs, for <c>info</c> and for checks at load.</summary>
    public GraphSignature Signature { get; }

    /// <summary>Starts a session on <paramref name="path"/>; ONNX Runtime's errors become one clear message.</summary>
    public static OnnxEncoder Create(string path, string relativePath, SessionOptions options)
    {
        InferenceSession? session = null;
        try
        {
            session = new InferenceSession(path, options);
            return new OnnxEncoder(session, relativePath);
        }
        catch (OnnxRuntimeException e)
        {
            session?.Dispose();
            throw new ModelLoadException($"{relativePath} could not be loaded by ONNX Runtime: {FirstLine(e.Message)}", e);
        }
    }

    public bool HasInput(string name) => _inputs.ContainsKey(name);

    public bool HasOutput(string name) => _session.OutputMetadata.ContainsKey(name);

    /// <summary>The fixed size of an input's axis, or null when it is dynamic.</summary>
    public int? FixedDimension(string input, int axis) =>
        _inputs.TryGetValue(input, out var m) && m.Dimensions.Length > axis && m.Dimensions[axis] > 0 ? m.Dimensions[axis] : null;

    /// <summary>The fixed size of an output's last axis, or null when it is dynamic.</summary>
    public int? FixedLastDimension(string output) =>
        _session.OutputMetadata.TryGetValue(output, out var m) && m.Dimensions.Length > 0 && m.Dimensions[^1] > 0 ? m.Dimensions[^1] : null;

    /// <summary>An int64 tensor (ids, attention mask) in the integer type the graph wants.</summary>
    public OrtValue IntegerInput(string name, long[] values, int rows, int columns)
    {
        long[] shape = [rows, columns];
        if (_inputs[name].ElementDataType == TensorElementType.Int32)
        {
            var narrowed = new int[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                narrowed[i] = checked((int)values[i]);
            }

            return OrtValue.CreateTensorValueFromMemory(narrowed, shape);
        }

        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values.AsMemory(0, rows * columns), shape);
    }

    /// <summary>A float tensor in the float type the graph wants (float16 graphs get a converted copy).</summary>
    public OrtValue FloatInput(string name, Memory<float> values, long[] shape)
    {
        if (_inputs[name].ElementDataType == TensorElementType.Float16)
        {
            var half = new Float16[values.Length];
            TensorPrimitives.ConvertToHalf(values.Span, MemoryMarshal.Cast<Float16, Half>(half.AsSpan()));
            return OrtValue.CreateTensorValueFromMemory(half, shape);
        }

        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, values, shape);
    }

    /// <summary>Runs the graph and returns the rows of the 2-d float output <paramref name="output"/>.</summary>
    public float[][] Run(IReadOnlyList<string> names, IReadOnlyList<OrtValue> values, string output)
    {
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, names, values, [output]);
        var result = results[0];
        var shape = result.GetTensorTypeAndShape().Shape;
        if (shape.Length != 2)
        {
            throw new ModelLoadException($"{Signature.File}: output {output} has shape [{string.Join(", ", shape)}], expected [batch, dim].");
        }

        var (rows, dim) = ((int)shape[0], (int)shape[1]);
        var flat = new float[rows * dim];
        if (result.GetTensorTypeAndShape().ElementDataType == TensorElementType.Float16)
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(result.GetTensorDataAsSpan<Float16>()), flat);
        }
        else
        {
            result.GetTensorDataAsSpan<float>().CopyTo(flat);
        }

        var rowsOut = new float[rows][];
        for (var r = 0; r < rows; r++)
        {
            rowsOut[r] = flat.AsSpan(r * dim, dim).ToArray();
        }

        return rowsOut;
    }

    public void Dispose() => _session.Dispose();

    private static string FirstLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length > 400 ? line[..400] + "…" : line;
    }
}
