using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using static ClipSearch.Core.Tests.Model.TinyClipReference;

namespace ClipSearch.Core.Tests.Model;

/// <summary>
/// The tiny CLIP through every layout against the Python stack's outputs. Tolerance: 1e-4 per component of the
/// normalised embeddings (float32 kernels of two ONNX Runtime versions and of PyTorch differ by ~1e-6).
/// </summary>
public sealed class ClipModelTests
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData("split")]
    [InlineData("combined")]
    [InlineData("xenova")]
    public void EmbedTexts_MatchesPyTorch(string layout)
    {
        using var model = Load(layout);
        var texts = Texts;
        var embeddings = model.EmbedTexts(texts);
        var expected = TextEmbeds;
        for (var i = 0; i < texts.Length; i++)
        {
            AssertClose(expected[i], embeddings[i], Tolerance, $"{layout} text {i} '{texts[i]}'");
            Assert.Equal(1f, Vectors.Norm(embeddings[i]), 1e-5f);
        }
    }

    [Theory]
    [InlineData("split")]
    [InlineData("combined")]
    [InlineData("xenova")]
    public void EmbedImages_OfReferenceCrops_MatchesPyTorch(string layout)
    {
        using var model = Load(layout);
        var images = Images;
        var embeddings = model.EmbedImages([.. images.Select(ReferenceCrop)]);
        var expected = ImageEmbeds;
        for (var i = 0; i < images.Length; i++)
        {
            AssertClose(expected[i], embeddings[i], Tolerance, $"{layout} image {images[i]}");
        }
    }

    [Theory]
    [InlineData("split")]
    [InlineData("xenova")]
    public void EmbedText_Unpadded_EqualsPaddedBatch(string layout)
    {
        // One text alone runs at its real length; in a batch it is padded to the longest member.
        using var model = Load(layout);
        var texts = Texts;
        var batch = model.EmbedTexts(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            AssertClose(batch[i], model.EmbedText(texts[i]), 1e-5f, $"{layout} '{texts[i]}' alone vs in a batch");
        }
    }

    [Theory]
    [InlineData("split")]
    [InlineData("combined")]
    [InlineData("xenova")]
    public void EmbedTexts_LengthSorted_EqualsBatchesInTheirOwnOrder(string layout)
    {
        // Batches of 2 over texts of 2 to 77 tokens: sorted, each batch pads to about its members' length; in their
        // own order, a short text shares a batch with a long one. Same vectors, in the caller's order.
        string[] texts = ["a", string.Join(' ', Enumerable.Repeat("very long", 60)), "a photo of a cat", "dog", "a blurry photo of the small red car on a street", "x y"];
        using var sortedModel = Load(layout, new ModelOptions { BatchSize = 2 });
        using var ownOrderModel = Load(layout, new ModelOptions { BatchSize = 2, SortTextsByLength = false });
        var sorted = sortedModel.EmbedTexts(texts);
        var ownOrder = ownOrderModel.EmbedTexts(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            AssertClose(ownOrder[i], sorted[i], 1e-5f, $"{layout} '{texts[i]}' sorted vs own order");
            AssertClose(sortedModel.EmbedText(texts[i]), sorted[i], 1e-5f, $"{layout} '{texts[i]}' sorted vs alone");
        }
    }

    [Fact]
    public void Fp32_EqualsOnnxRuntimeReference()
    {
        // Same graphs, same inputs (our tokenizer, the reference crops): ONNX Runtime gives the same floats.
        using var model = ClipModel.Load(TinyClip);
        var texts = model.EmbedTexts(Texts);
        var expectedTexts = Onnx("text_model");
        for (var i = 0; i < texts.Length; i++)
        {
            AssertClose(expectedTexts[i], texts[i], 1e-6f, $"fp32 text {i}");
        }

        var images = model.EmbedImages([.. Images.Select(ReferenceCrop)]);
        var expectedImages = Onnx("vision_model");
        for (var i = 0; i < images.Length; i++)
        {
            AssertClose(expectedImages[i], images[i], 1e-6f, $"fp32 image {i}");
        }
    }

    [Fact]
    public void Quantized_MatchesOnnxRuntimeReference()
    {
        // Dynamic uint8 quantization scales activations per tensor at run time, and MLAS's integer kernels differ
        // between CPUs (AVX512-VNNI here) and batch compositions, so the quantized graphs are compared by cosine:
        // 1 − cos ≤ 3e-4 (measured here: ≤ 2.3e-4; fp32 vs quantized differ by up to 3.5e-4), and ≤ 0.02 per component.
        using var model = ClipModel.Load(TinyClip, new ModelOptions { Variant = ModelVariant.Quantized, BatchSize = 1 });
        var texts = model.EmbedTexts(Texts);
        var images = model.EmbedImages([.. Images.Select(ReferenceCrop)]);
        foreach (var (actual, expected, what) in texts.Zip(Onnx("text_model_quantized"), (a, e) => (a, e, "text"))
            .Concat(images.Zip(Onnx("vision_model_quantized"), (a, e) => (a, e, "image"))))
        {
            Assert.True(Vectors.Cosine(actual, expected) >= 1 - 3e-4f, $"quantized {what}: cosine {Vectors.Cosine(actual, expected)}");
            AssertClose(expected, actual, 0.02f, $"quantized {what}");
        }
    }

    [Fact]
    public void Match_LogitsAndProbabilities_MatchPyTorch()
    {
        using var model = ClipModel.Load(TinyClip);
        Assert.Equal(100.00296f, model.LogitScale.Value, 1e-3f);
        var match = MatchResult.Compute(model.EmbedImages([.. Images.Select(ReferenceCrop)]), model.EmbedTexts(Texts), model.LogitScale.Value);
        var expected = LogitsPerImage;
        for (var i = 0; i < expected.Length; i++)
        {
            AssertClose(expected[i], match.Logits[i], 0.02f, $"logits of image {i}");
            var probabilities = new float[expected[i].Length];
            System.Numerics.Tensors.TensorPrimitives.SoftMax(expected[i], probabilities);
            AssertClose(probabilities, match.Probabilities[i], 1e-3f, $"probabilities of image {i}");
            Assert.Equal(1f, match.Probabilities[i].Sum(), 1e-4f);
        }
    }

    [Fact]
    public void LogitScale_DefaultsTo100_WithoutCheckpoint()
    {
        using var model = ClipModel.Load(TinyClipXenova);
        Assert.Equal(100f, model.LogitScale.Value);
    }

    [Fact]
    public void Info_ReportsSizesFromTheFiles()
    {
        using var model = ClipModel.Load(TinyClip);
        var info = ModelInfo.Of(model);
        Assert.Equal(16, info.ProjectionDim);
        Assert.Equal(2, info.Text.Layers);
        Assert.Equal(32, info.Text.Width);
        Assert.Equal(48, info.Vision.Width);
        Assert.Equal(32, info.PatchSize);
        Assert.Equal(77, info.ContextLength);
        Assert.Equal(49408, info.VocabularySize);
        // Token embedding alone is 49408 × 32 parameters.
        Assert.True(info.Parameters["onnx/text_model.onnx"] > 49408 * 32);
        Assert.Equal(info.Parameters["onnx/text_model.onnx"] + info.Parameters["onnx/vision_model.onnx"], info.Parameters["total"]);
        Assert.Contains(info.Signatures, s => s.File == "onnx/text_model.onnx" && s.Inputs.Any(i => i.Name == "attention_mask"));
        Assert.Contains("CPUExecutionProvider", info.ExecutionProviders);
    }

    [Fact]
    public void Info_XenovaTextModel_TakesInputIdsOnly()
    {
        using var model = ClipModel.Load(TinyClipXenova);
        var text = Assert.Single(ModelInfo.Of(model).Signatures, s => s.File == "onnx/text_model.onnx");
        Assert.Equal(["input_ids"], text.Inputs.Select(i => i.Name));
        Assert.Equal(["text_embeds"], text.Outputs.Select(o => o.Name));
    }

    [Fact]
    public void Load_IsSafeToShareAcrossThreads()
    {
        using var model = ClipModel.Load(TinyClip);
        var expected = model.EmbedText("a photo of a cat");
        Parallel.For(0, 32, i => AssertClose(expected, model.EmbedText("a photo of a cat"), 1e-6f, $"thread {i}"));
    }

    [Fact]
    public async Task Dispose_WhileEmbedding_WaitsForTheRunAndRefusesLaterCalls()
    {
        var model = ClipModel.Load(TinyClip);
        var crops = Enumerable.Repeat(ReferenceCrop("astronaut.png"), 8).ToArray();
        var started = new TaskCompletionSource();
        var worker = Task.Run(() =>
        {
            started.SetResult();
            for (var i = 0; i < 1000; i++)
            {
                model.EmbedImages(crops);
            }
        });
        await started.Task;
        model.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => worker);
        Assert.Throws<ObjectDisposedException>(() => model.EmbedText("a cat"));
    }

    private static ClipModel Load(string layout, ModelOptions? options = null) => layout switch
    {
        "split" => ClipModel.Load(TinyClip, (options ?? new ModelOptions()) with { Layout = ModelLayout.Split }),
        "combined" => ClipModel.Load(TinyClip, (options ?? new ModelOptions()) with { Layout = ModelLayout.Combined }),
        "xenova" => ClipModel.Load(TinyClipXenova, options),
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };
}
