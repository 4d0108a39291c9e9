using ClipSearch.Core.Similarity;

namespace ClipSearch.Core.Tests.Similarity;

/// <summary>The zero-shot label cache is bounded by bytes, least recently used first out, and never breaks a request.</summary>
public sealed class LabelCacheBoundTests
{
    private const int Dimension = 512;

    // A deterministic unit vector per prompt (its hash spread over the dimensions).
    private static float[][] Embed(IReadOnlyList<string> prompts) =>
        [.. prompts.Select(p =>
        {
            var random = new Random(StringComparer.Ordinal.GetHashCode(p) & 0x7FFFFFFF);
            return Vectors.Normalized([.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() - 0.5f)]);
        })];

    [Fact]
    public void LabelEmbeddings_PastTheBound_HoldsAtMostItEvictsTheOldestAndAnswersAsUnbounded()
    {
        var bounded = new ZeroShotClassifier(Embed, 100f, cacheBytes: 256 * 1024);
        var unbounded = new ZeroShotClassifier(Embed, 100f, cacheBytes: long.MaxValue);
        var labels = Enumerable.Range(0, 20).Select(i => $"thing {i}").ToArray();
        var sets = Enumerable.Range(0, 30).Select(i => new[] { $"request {i}: a photo of a {{}}." }).ToArray();

        foreach (var templates in sets)
        {
            var got = bounded.LabelEmbeddings(labels, templates);
            Assert.Equal(unbounded.LabelEmbeddings(labels, templates), got);
            Assert.InRange(bounded.CachedBytes, 1, bounded.CacheCapacityBytes);
        }

        // 600 labels × (2 KB of floats + text + bookkeeping) is about 1.4 MB: most had to go, the oldest first.
        Assert.True(bounded.CacheEvictions > 0);
        Assert.False(bounded.IsCached(labels, sets[0]));
        Assert.True(bounded.IsCached(labels, sets[^1]));
        Assert.Equal(600, unbounded.CachedLabels);
        Assert.InRange(bounded.CachedLabels, 20, 150);
    }

    [Fact]
    public void LabelEmbeddings_UsedRecently_SurvivesNewerEntries()
    {
        var classifier = new ZeroShotClassifier(Embed, 100f, cacheBytes: 64 * 1024);
        string[] keep = ["a {}"];
        classifier.LabelEmbeddings(["cat", "dog"], keep);
        for (int i = 0; i < 40; i++)
        {
            classifier.LabelEmbeddings([$"other {i}"], keep);
            classifier.LabelEmbeddings(["cat", "dog"], keep);   // touched: stays the most recent
        }

        Assert.True(classifier.CacheEvictions > 0);
        Assert.True(classifier.IsCached(["cat", "dog"], keep));
        Assert.False(classifier.IsCached(["other 0"], keep));
    }

    [Fact]
    public void Classify_MoreLabelsThanTheCacheHolds_StillAnswersLikeUnbounded()
    {
        // Room for about three labels; the request has 300 (its own labels evict each other as they are made).
        var tiny = new ZeroShotClassifier(Embed, 100f, cacheBytes: 7 * 1024);
        var unbounded = new ZeroShotClassifier(Embed, 100f, cacheBytes: long.MaxValue);
        var labels = Enumerable.Range(0, 300).Select(i => $"label {i}").ToArray();
        string[] templates = ["a {}", "a photo of a {}"];
        var image = Embed(["an image"])[0];

        var got = tiny.Classify(image, labels, templates);
        var expected = unbounded.Classify(image, labels, templates);

        Assert.Equal(expected.Select(s => (s.Label, s.Probability)), got.Select(s => (s.Label, s.Probability)));
        Assert.True(tiny.CachedBytes <= tiny.CacheCapacityBytes);
    }

    [Fact]
    public void ImageNetSizedPreset_FitsTheDefaultBound()
    {
        var classifier = new ZeroShotClassifier(_ => throw new InvalidOperationException("must not embed"), 100f);
        var labels = Enumerable.Range(0, 1000).Select(i => $"imagenet class number {i}").ToArray();
        string[] templates = ["a bad photo of a {}.", "a photo of many {}."];
        classifier.Remember(labels, templates, Embed(labels));
        Assert.True(classifier.IsCached(labels, templates));
        Assert.InRange(classifier.CachedBytes, 2_000_000, 3_000_000);
        Assert.Equal(0, classifier.CacheEvictions);
    }

    [Fact]
    public void LruByteCache_Set_EvictsLeastRecentlyUsedAndRefusesTheOversized()
    {
        var cache = new LruByteCache<string, int>(100);
        cache.Set("a", 1, 40);
        cache.Set("b", 2, 40);
        Assert.True(cache.TryGet("a", out _));   // a is now the most recent
        cache.Set("c", 3, 40);                    // over 100: b (least recent) goes
        Assert.False(cache.Contains("b"));
        Assert.True(cache.Contains("a") && cache.Contains("c"));
        Assert.Equal(80, cache.Bytes);

        Assert.False(cache.Set("huge", 4, 101));
        Assert.False(cache.Contains("huge"));
        Assert.Equal(80, cache.Bytes);

        cache.Set("a", 5, 10);   // replaced: its old size no longer counts
        Assert.Equal(50, cache.Bytes);
        Assert.True(cache.TryGet("a", out var value) && value == 5);
    }
}
