using ClipSearch.Core.Similarity;

namespace ClipSearch.Core.Tests.Similarity;

/// <summary>
/// <see cref="LabelEmbeddingCache.GetOrEmbed"/> with a fake text encoder: what warming (the CLI's and the server's)
/// and a preset's first classification both run.
/// </summary>
public sealed class LabelEmbeddingCacheTests : IDisposable
{
    private const int Dimension = 4;
    private const string Model = "model-a";
    private const string Name = "animals";
    private static readonly string[] Labels = ["cat", "dog", "horse", "cow", "sheep", "goat", "pig"];
    private static readonly string[] Templates = ["a photo of a {}.", "a drawing of a {}."];

    private readonly TempFolder _folder = new();
    private readonly List<string> _embedded = [];

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void GetOrEmbed_ThenAFreshClassifier_ReadsTheFileWithIdenticalEmbeddings()
    {
        var cache = new LabelEmbeddingCache(_folder.Path);
        var (coldSource, cold) = cache.GetOrEmbed(Classifier(), Model, Dimension, Name, Labels, Templates, null, CancellationToken.None);

        var fresh = Classifier();
        var (warmSource, warm) = cache.GetOrEmbed(fresh, Model, Dimension, Name, Labels, Templates, null, CancellationToken.None);

        Assert.Equal(LabelEmbeddingSource.Computed, coldSource);
        Assert.Equal(LabelEmbeddingSource.Disk, warmSource);
        Assert.Equal(Labels.Length * Templates.Length, _embedded.Count);
        Assert.Equal(cold, warm);
        Assert.Equal(Classifier().LabelEmbeddings(Labels, Templates), warm);
        Assert.Equal(warm, fresh.TryGetAll(Labels, Templates));
        Assert.False(File.Exists(cache.PathFor(Model, Name, Labels, Templates) + LabelEmbeddingCache.PartialSuffix));
    }

    [Fact]
    public void GetOrEmbed_Cancelled_KeepsTheFinishedLabelsAndTheNextRunEmbedsOnlyTheRest()
    {
        var cache = new LabelEmbeddingCache(_folder.Path);
        using var cancel = new CancellationTokenSource();
        // One label per chunk (2 prompts); cancelled once three labels are done.
        var progress = new Progress(p =>
        {
            if (p.PromptsDone == 3 * Templates.Length)
            {
                cancel.Cancel();
            }
        });
        Assert.Throws<OperationCanceledException>(() =>
            cache.GetOrEmbed(Classifier(), Model, Dimension, Name, Labels, Templates, progress, cancel.Token, promptsPerChunk: Templates.Length));

        var path = cache.PathFor(Model, Name, Labels, Templates);
        Assert.False(File.Exists(path));
        var kept = LabelEmbeddingCache.TryReadPrefix(path + LabelEmbeddingCache.PartialSuffix, Labels.Length, Dimension);
        Assert.Equal(3, kept?.Length);

        _embedded.Clear();
        var reports = new List<ZeroShotProgress>();
        var (source, resumed) = cache.GetOrEmbed(Classifier(), Model, Dimension, Name, Labels, Templates, new Progress(reports.Add), CancellationToken.None);

        Assert.Equal(LabelEmbeddingSource.Computed, source);
        Assert.Equal([.. Labels.Skip(3).SelectMany(l => Templates.Select(t => ZeroShotClassifier.Prompt(t, l)))], _embedded);
        Assert.Equal(new ZeroShotProgress(3 * Templates.Length, Labels.Length * Templates.Length), reports[0]);
        Assert.Equal(Classifier().LabelEmbeddings(Labels, Templates), resumed);
        Assert.Equal(resumed, LabelEmbeddingCache.TryRead(path, Labels.Length, Dimension));
        Assert.False(File.Exists(path + LabelEmbeddingCache.PartialSuffix));
    }

    [Fact]
    public void TryReadPrefix_MoreEmbeddingsThanLabels_ReadsNull()
    {
        var path = Path.Combine(_folder.Path, "x.bin");
        LabelEmbeddingCache.Write(path, [[1f, 0f], [0f, 1f], [1f, 0f]]);
        Assert.Null(LabelEmbeddingCache.TryReadPrefix(path, 2, 2));
        Assert.Equal(3, LabelEmbeddingCache.TryReadPrefix(path, 3, 2)?.Length);
        Assert.Null(LabelEmbeddingCache.TryRead(path, 2, 2));
    }

    [Fact]
    public void PromptsPerSecond_NothingEmbedded_IsNullUntilMeasured()
    {
        var classifier = Classifier();
        Assert.Null(classifier.PromptsPerSecond);
        var rate = classifier.MeasureRate([.. Enumerable.Range(0, ZeroShotClassifier.PromptsForRate).Select(i => $"prompt {i}")]);
        Assert.True(rate > 0);
        Assert.Equal(rate, classifier.PromptsPerSecond);
    }

    // A deterministic "text encoder": each prompt's characters spread over the dimensions, normalised.
    private ZeroShotClassifier Classifier() => new(prompts =>
    {
        _embedded.AddRange(prompts);
        return [.. prompts.Select(p =>
        {
            var v = new float[Dimension];
            for (var i = 0; i < p.Length; i++)
            {
                v[i % Dimension] += p[i];
            }

            return Vectors.Normalized(v);
        })];
    }, logitScale: 100f);

    private sealed class Progress(Action<ZeroShotProgress> report) : IProgress<ZeroShotProgress>
    {
        public void Report(ZeroShotProgress value) => report(value);
    }
}
