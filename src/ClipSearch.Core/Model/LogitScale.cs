using System.Buffers.Binary;
using System.Text.Json;

namespace ClipSearch.Core.Model;

/// <summary>
/// CLIP's temperature: logits = exp(logit_scale) × cosine. The trained ViT-B/32 has exp(logit_scale) = 100 (the
/// value training clamps it to), so 100 is taken when the folder does not carry the parameter itself.
/// </summary>
/// <param name="Value">exp(logit_scale), the factor applied to cosines.</param>
/// <param name="Source">Where it came from, for <c>info</c>.</param>
public sealed record LogitScale(float Value, string Source)
{
    /// <summary>The trained CLIP's factor, used when the model folder does not carry logit_scale.</summary>
    public const float TrainedClipValue = 100f;

    /// <summary>
    /// Finds logit_scale in the folder: <c>model.safetensors</c> (the transformers checkpoint), else an ONNX
    /// initializer named <c>logit_scale</c> (the combined <c>model.onnx</c> carries one), else 100.
    /// </summary>
    public static LogitScale Find(string modelDirectory, IEnumerable<OnnxFileSummary> onnxFiles)
    {
        var safetensors = Path.Combine(modelDirectory, "model.safetensors");
        if (File.Exists(safetensors) && ReadSafetensorsScalar(safetensors, "logit_scale") is float fromCheckpoint)
        {
            return new LogitScale(MathF.Exp(fromCheckpoint), "model.safetensors (logit_scale)");
        }

        foreach (var summary in onnxFiles)
        {
            if (summary.LogitScale is float fromGraph)
            {
                return new LogitScale(MathF.Exp(fromGraph), "ONNX initializer logit_scale");
            }
        }

        return new LogitScale(TrainedClipValue, "default 100 (trained CLIP; the folder does not carry logit_scale)");
    }

    /// <summary>Reads one F32 scalar from a safetensors file (8-byte header length, JSON header, data); null if absent.</summary>
    private static float? ReadSafetensorsScalar(string path, string name)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > 100_000_000 || (long)headerLength > stream.Length - 8)
            {
                return null;
            }

            var header = new byte[headerLength];
            stream.ReadExactly(header);
            using var json = JsonDocument.Parse(header);
            if (!json.RootElement.TryGetProperty(name, out var entry) || entry.GetProperty("dtype").GetString() != "F32")
            {
                return null;
            }

            var begin = entry.GetProperty("data_offsets")[0].GetInt64();
            stream.Position = 8 + (long)headerLength + begin;
            Span<byte> value = stackalloc byte[4];
            stream.ReadExactly(value);
            return BinaryPrimitives.ReadSingleLittleEndian(value);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null; // an unreadable checkpoint is not needed to run the ONNX files; fall back.
        }
    }
}
