using ClipSearch.Core.Similarity;

namespace ClipSearch.Core.Tests.Similarity;

public sealed class ZeroShotClassifierTests
{
    [Fact]
    public void Ensemble_TwoUnitVectors_IsTheirNormalisedMean()
    {
        var mean = ZeroShotClassifier.Ensemble([[1f, 0f], [0f, 1f]]);
        Assert.Equal(MathF.Sqrt(0.5f), mean[0], 1e-6f);
        Assert.Equal(MathF.Sqrt(0.5f), mean[1], 1e-6f);
    }

    [Fact]
    public void Classify_FakeEmbedder_EnsemblesTemplatesAndCachesLabels()
    {
        var calls = new List<string>();
        float[][] Embed(IReadOnlyList<string> prompts)
        {
            calls.AddRange(prompts);
            // "cat" prompts point along x, "dog" prompts along y; "blurry" ones are tilted by 45°.
            return [.. prompts.Select(p => p.Contains("blurry")
                ? Vectors.Normalized(p.Contains("cat") ? [1f, 1f, 0f] : [0f, 1f, 1f])
                : (p.Contains("cat") ? new[] { 1f, 0f, 0f } : [0f, 1f, 0f]))];
        }

        var classifier = new ZeroShotClassifier(Embed, logitScale: 100f);
        string[] templates = ["a photo of a {}.", "a blurry photo of a {}."];
        var ranked = classifier.Classify([1f, 0f, 0f], ["dog", "cat"], templates);

        Assert.Equal("cat", ranked[0].Label);
        var catEmbedding = ZeroShotClassifier.Ensemble([[1f, 0f, 0f], Vectors.Normalized([1f, 1f, 0f])]);
        Assert.Equal(catEmbedding[0], ranked[0].Cosine, 1e-6f);
        Assert.Equal(1f, ranked.Sum(r => r.Probability), 1e-6f);
        Assert.Equal(["a photo of a dog.", "a blurry photo of a dog.", "a photo of a cat.", "a blurry photo of a cat."], calls);

        classifier.Classify([0f, 1f, 0f], ["cat", "dog"], templates);
        Assert.Equal(4, calls.Count);
        Assert.Equal(2, classifier.CachedLabels);
    }

    [Fact]
    public void LabelEmbeddings_ManyLabels_EmbedsInWholeLabelChunksReportingProgress()
    {
        var batches = new List<int>();
        float[][] Embed(IReadOnlyList<string> prompts)
        {
            batches.Add(prompts.Count);
            return [.. prompts.Select(p => Vectors.Normalized([p.Length, 1f]))];
        }

        var labels = Enumerable.Range(0, 100).Select(i => $"label {i}").ToArray();
        string[] templates = ["a {}", "a photo of a {}", "the {}", "a big {}", "a small {}", "{}", "one {}"];
        var reports = new List<ZeroShotProgress>();
        var chunked = new ZeroShotClassifier(Embed, 100f).LabelEmbeddings(labels, templates, new SyncProgress(reports), CancellationToken.None);

        // 256 / 7 = 36 labels (252 prompts) per call: 36 + 36 + 28 labels.
        Assert.Equal([252, 252, 196], batches);
        Assert.Equal([new(252, 700), new(504, 700), new ZeroShotProgress(700, 700)], reports);
        Assert.Equal(labels.Select(l => ZeroShotClassifier.Ensemble([.. templates.Select(t => Vectors.Normalized([ZeroShotClassifier.Prompt(t, l).Length, 1f]))])), chunked);
    }

    [Fact]
    public void Remember_SeededEmbeddings_AreUsedWithoutEmbedding()
    {
        var classifier = new ZeroShotClassifier(_ => throw new InvalidOperationException("must not embed"), 100f);
        string[] templates = ["a photo of a {}."];
        classifier.Remember(["cat", "dog"], templates, [[1f, 0f], [0f, 1f]]);

        Assert.True(classifier.IsCached(["dog", "cat"], templates));
        Assert.False(classifier.IsCached(["cat"], ["a {}"]));
        Assert.Equal("dog", classifier.Classify([0f, 1f], ["cat", "dog"], templates)[0].Label);
    }

    [Fact]
    public void LabelEmbeddings_Cancelled_StopsBetweenChunks()
    {
        using var cancel = new CancellationTokenSource();
        var calls = 0;
        var classifier = new ZeroShotClassifier(p => { calls++; cancel.Cancel(); return [.. p.Select(_ => new[] { 1f, 0f })]; }, 100f);
        var labels = Enumerable.Range(0, 600).Select(i => $"label {i}").ToArray();

        Assert.Throws<OperationCanceledException>(() => classifier.LabelEmbeddings(labels, ["a {}"], null, cancel.Token));
        Assert.Equal(1, calls);
        Assert.True(classifier.IsCached(labels[..256], ["a {}"]));
    }

    private sealed class SyncProgress(List<ZeroShotProgress> reports) : IProgress<ZeroShotProgress>
    {
        public void Report(ZeroShotProgress value) => reports.Add(value);
    }

    [Theory]
    [InlineData(new string[0], new[] { "a {}" }, "No labels")]
    [InlineData(new[] { "cat" }, new string[0], "No templates")]
    [InlineData(new[] { "cat" }, new[] { "a photo" }, "has no {}")]
    public void Classify_BadInput_ThrowsClipSearchException(string[] labels, string[] templates, string message)
    {
        var classifier = new ZeroShotClassifier(_ => throw new InvalidOperationException(), 100f);
        var e = Assert.Throws<ClipSearchException>(() => classifier.Classify([1f], labels, templates));
        Assert.Contains(message, e.Message);
    }
}

public sealed class MatchResultSoftmaxTests
{
    [Fact]
    public void Compute_LogitsAbove88_ProbabilitiesStayFinite()
    {
        // cosine 0.95 × scale 100 = 95: exp(95) overflows a float unless the softmax is shifted.
        var result = MatchResult.Compute([[1f, 0f]], [[0.95f, MathF.Sqrt(1 - (0.95f * 0.95f))], [0f, 1f]], 100f);
        Assert.Equal(1f, result.Probabilities[0][0], 1e-6f);
        Assert.Equal(MathF.Exp(-95f), result.Probabilities[0][1], 1e-12f);
    }
}
