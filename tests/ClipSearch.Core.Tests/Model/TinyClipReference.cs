using System.Text.Json;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Similarity;

namespace ClipSearch.Core.Tests.Model;

/// <summary>The tiny random-weight CLIP's reference outputs (tiny_clip_outputs.json, tiny_clip_onnx_outputs.json).</summary>
internal static class TinyClipReference
{
    private static readonly Lazy<JsonDocument> _torch = new(() => JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tiny_clip_outputs.json"))));
    private static readonly Lazy<JsonDocument> _onnx = new(() => JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tiny_clip_onnx_outputs.json"))));

    public static string TinyClip => Fixtures.Path("tiny-clip");

    public static string TinyClipXenova => Fixtures.Path("tiny-clip-xenova");

    public static string[] Texts => [.. _torch.Value.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!)];

    public static string[] Images => [.. _torch.Value.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!)];

    public static long[][] PaddedInputIds => Matrix<long>(_torch.Value.RootElement.GetProperty("input_ids"), e => e.GetInt64());

    /// <summary>PyTorch text embeddings, normalised here (the file holds raw projections).</summary>
    public static float[][] TextEmbeds => Normalised(_torch.Value.RootElement.GetProperty("text_embeds"));

    /// <summary>PyTorch image embeddings, normalised here.</summary>
    public static float[][] ImageEmbeds => Normalised(_torch.Value.RootElement.GetProperty("image_embeds"));

    public static float[][] LogitsPerImage => Matrix<float>(_torch.Value.RootElement.GetProperty("logits_per_image"), e => e.GetSingle());

    /// <summary>ONNX Runtime outputs of one tiny-clip/onnx file (text_model, vision_model_quantized, …), normalised here.</summary>
    public static float[][] Onnx(string graph) => Normalised(_onnx.Value.RootElement.GetProperty("outputs").GetProperty(graph));

    /// <summary>The reference 224×224 crop of an image (the input PyTorch saw), as the model takes it.</summary>
    public static RgbImage ReferenceCrop(string imageFile) =>
        ImageLoader.LoadCrop(Fixtures.Path("crops224", Path.GetFileNameWithoutExtension(imageFile) + ".png"),
            PreprocessConfig.Default, new ImageLoadOptions { Exact = true, ApplyExifOrientation = false });

    public static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tolerance, $"{what}: max abs diff {worst:G3} > {tolerance:G3}");
    }

    private static float[][] Normalised(JsonElement rows) =>
        [.. Matrix<float>(rows, e => e.GetSingle()).Select(r => Vectors.Normalized(r))];

    private static T[][] Matrix<T>(JsonElement rows, Func<JsonElement, T> read) =>
        [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(read).ToArray())];
}
