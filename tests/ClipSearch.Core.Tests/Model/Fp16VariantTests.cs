using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using static ClipSearch.Core.Tests.Model.OnnxGraphWriter;

namespace ClipSearch.Core.Tests.Model;

/// <summary>
/// The fp16 variant: inputs converted to float16 where the graph declares it, outputs back to float32. The fixtures
/// have no fp16 export, so the test writes two tiny float16 graphs whose outputs are easy to compute by hand:
/// image_embeds = per-channel mean of pixel_values; text_embeds = [mean, max, min] of the token ids.
/// </summary>
public sealed class Fp16VariantTests
{
    [Fact]
    public void Fp16Graphs_AreFedAndReadInFloat16()
    {
        using var folder = Fp16Folder();
        using var model = ClipModel.Load(folder.Path, new ModelOptions { Variant = ModelVariant.Fp16 });

        var crop = TinyClipReference.ReferenceCrop("chelsea.png");
        var chw = Normalizer.ToChw(crop, PreprocessConfig.Default);
        var plane = 224 * 224;
        var expectedImage = Vectors.Normalized([.. Enumerable.Range(0, 3).Select(c => chw.AsSpan(c * plane, plane).ToArray().Average())]);
        TinyClipReference.AssertClose(expectedImage, model.EmbedImages([crop])[0], 2e-3f, "fp16 image");

        var ids = model.Tokenizer.Encode("a photo of a cat").Select(i => (float)i).ToArray();
        var expectedText = Vectors.Normalized([ids.Average(), ids.Max(), ids.Min()]);
        TinyClipReference.AssertClose(expectedText, model.EmbedText("a photo of a cat"), 2e-3f, "fp16 text");
        Assert.Contains(ModelInfo.Of(model).Signatures, s => s.Inputs.Any(i => i.ElementType == "float16"));
    }

    private static TempFolder Fp16Folder()
    {
        var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("onnx"));
        foreach (var file in new[] { "vocab.json", "merges.txt", "preprocessor_config.json" })
        {
            File.Copy(Fixtures.Path("tiny-clip", file), folder.File(file));
        }

        File.WriteAllText(folder.File("config.json"), """
            { "projection_dim": 3, "text_config": { "max_position_embeddings": 77, "vocab_size": 49408 },
              "vision_config": { "image_size": 224, "patch_size": 32 } }
            """);
        var vision = Graph("vision",
            [Node("ReduceMean", ["pixel_values"], "image_embeds", IntsAttribute("axes", 2, 3), IntAttribute("keepdims", 0))],
            [Value("pixel_values", Float16Type, "batch_size", 3, 224, 224)],
            [Value("image_embeds", Float16Type, "batch_size", 3)]);
        var text = Graph("text",
            [
                Node("Cast", ["input_ids"], "ids", IntAttribute("to", Float16Type)),
                Node("ReduceMean", ["ids"], "mean", IntsAttribute("axes", 1), IntAttribute("keepdims", 1)),
                Node("ReduceMax", ["ids"], "max", IntsAttribute("axes", 1), IntAttribute("keepdims", 1)),
                Node("ReduceMin", ["ids"], "min", IntsAttribute("axes", 1), IntAttribute("keepdims", 1)),
                Node("Concat", ["mean", "max", "min"], "text_embeds", IntAttribute("axis", 1)),
            ],
            [Value("input_ids", Int64Type, "batch_size", "sequence_length")],
            [Value("text_embeds", Float16Type, "batch_size", 3)]);
        File.WriteAllBytes(folder.File("onnx", "vision_model_fp16.onnx"), ModelProto(vision));
        File.WriteAllBytes(folder.File("onnx", "text_model_fp16.onnx"), ModelProto(text));
        return folder;
    }
}
