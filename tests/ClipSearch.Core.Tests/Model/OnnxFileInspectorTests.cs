using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tests.Model;

public sealed class OnnxFileInspectorTests
{
    [Fact]
    public void Inspect_TinyTextModel_CountsItsParameters()
    {
        // Text tower of tiny-clip: token (49408×32) + position (77×32) embeddings, 2 layers of width 32 / MLP 64,
        // final LayerNorm and a 32→16 projection. The exporter stores identical tensors once (freshly initialised
        // LayerNorm weights and zero biases), so the file holds up to 24 vectors of 32 fewer, plus a few constants.
        const long Embeddings = (49408 * 32) + (77 * 32);
        const long Layer = (4 * ((32 * 32) + 32)) + (2 * 2 * 32) + ((32 * 64) + 64) + ((64 * 32) + 32);
        const long Expected = Embeddings + (2 * Layer) + (2 * 32) + (32 * 16);
        var summary = OnnxFileInspector.Inspect(Fixtures.Path("tiny-clip", "onnx", "text_model.onnx"));
        Assert.InRange(summary.ParameterCount, Expected - (24 * 32), Expected + 200);
        Assert.Empty(summary.ExternalDataFiles);
    }

    [Fact]
    public void Inspect_CombinedModel_FindsLogitScale()
    {
        var summary = OnnxFileInspector.Inspect(Fixtures.Path("tiny-clip", "onnx", "model.onnx"));
        Assert.NotNull(summary.LogitScale);
        Assert.Equal(4.6052f, summary.LogitScale!.Value, 1e-3f);
    }

    [Fact]
    public void Inspect_ExternalData_ListsTheDataFile()
    {
        using var temp = new TempFolder();
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, ModelWithExternalWeights("weights.onnx_data"));
        var summary = OnnxFileInspector.Inspect(path);
        Assert.Equal(["weights.onnx_data"], summary.ExternalDataFiles);
        Assert.Equal(6, summary.ParameterCount);
    }

    [Fact]
    public void Load_MissingExternalData_NamesTheDataFile()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        File.WriteAllBytes(folder.File("onnx", "text_model.onnx"), ModelWithExternalWeights("text_model.onnx_data"));
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("keeps its weights in text_model.onnx_data, which is missing", e.Message);
    }

    /// <summary>A ModelProto whose graph has one 2×3 float initializer stored in an external file.</summary>
    internal static byte[] ModelWithExternalWeights(string location)
    {
        var entry = Concat(Field(1, "location"u8.ToArray()), Field(2, System.Text.Encoding.UTF8.GetBytes(location)));
        var tensor = Concat([0x08, 2, 0x08, 3, 0x10, 1], Field(8, "w"u8.ToArray()), Field(13, entry), [0x70, 1]);
        var graph = Field(5, tensor);
        return Concat([0x08, 8], Field(7, graph));
    }

    private static byte[] Field(int number, byte[] payload)
    {
        var bytes = new List<byte> { (byte)((number << 3) | 2) };
        var length = payload.Length;
        while (length >= 0x80)
        {
            bytes.Add((byte)(length | 0x80));
            length >>= 7;
        }

        bytes.Add((byte)length);
        bytes.AddRange(payload);
        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
