using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tests.Model;

/// <summary>Every way a model folder can be wrong gives one <see cref="ModelLoadException"/> naming the file.</summary>
public sealed class ModelLoadErrorTests
{
    [Fact]
    public void Load_MissingFolder_SaysSo()
    {
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load("/nonexistent/model"));
        Assert.Contains("/nonexistent/model does not exist", e.Message);
    }

    [Fact]
    public void Load_FolderWithoutConfig_NamesConfigJson()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(temp.Path));
        Assert.Contains("config.json is missing", e.Message);
    }

    [Fact]
    public void Load_MissingVariant_ListsWhatIsThere()
    {
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(TinyClipReference.TinyClip, new ModelOptions { Variant = ModelVariant.Fp16 }));
        Assert.Contains("No fp16 model", e.Message);
        Assert.Contains("text_model_fp16.onnx", e.Message);
        Assert.Contains("text_model_quantized.onnx", e.Message);
        Assert.DoesNotContain("--variant", e.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.ModelVariantMissing, e.Code);
        Assert.Equal((Path.Combine(Path.GetFullPath(TinyClipReference.TinyClip), "onnx"), "fp16"), ((string)e.Arguments[0], (string)e.Arguments[1]));
        Assert.Contains("text_model_quantized.onnx", (string)e.Arguments[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Load_HalfASplitPair_NamesTheMissingFile()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        File.Delete(folder.File("onnx", "vision_model.onnx"));
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("vision_model.onnx is missing beside text_model.onnx", e.Message);
    }

    [Fact]
    public void Load_CorruptOnnx_NamesTheFile()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        File.WriteAllText(folder.File("onnx", "text_model.onnx"), "this is not a model");
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("text_model.onnx", e.Message);
    }

    [Fact]
    public void Load_TruncatedOnnx_NamesTheFile()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        var path = folder.File("onnx", "vision_model.onnx");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("vision_model.onnx", e.Message);
        Assert.Contains("not a valid ONNX file", e.Message);
    }

    [Fact]
    public void Load_ProjectionDimMismatch_SaysTheFilesDoNotBelongTogether()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        var config = File.ReadAllText(folder.File("config.json")).Replace("\"projection_dim\": 16", "\"projection_dim\": 512", StringComparison.Ordinal);
        File.WriteAllText(folder.File("config.json"), config);
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("projection_dim 512", e.Message);
        Assert.Contains("different models", e.Message);
    }

    [Fact]
    public void Load_MalformedConfig_NamesConfigJson()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        File.WriteAllText(folder.File("config.json"), "{ not json");
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("config.json is not valid JSON", e.Message);
    }

    [Fact]
    public void Load_MissingTokenizerFiles_NamesThem()
    {
        using var folder = TempFolder.CopyOf(TinyClipReference.TinyClipXenova);
        File.Delete(folder.File("vocab.json"));
        File.Delete(folder.File("merges.txt"));
        File.Delete(folder.File("tokenizer.json"));
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));
        Assert.Contains("tokenizer", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_ModelPathIsAFile_SaysToGiveTheFolder()
    {
        var file = Path.GetFullPath(TinyClipReference.TinyClip + "/config.json");
        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(file));
        Assert.Contains("is a file", e.Message);
        Assert.Equal((ErrorCodes.ModelFolderIsFile, file), (e.Code, e.Arguments.Single()));
    }
}
