using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Core.Pipeline;
using ClipSearch.Core.Tests.Model;

namespace ClipSearch.Core.Tests.Pipeline;

public sealed class ImageEmbeddingPipelineTests
{
    [Fact]
    public async Task RunAsync_EmbedsGoodFilesAndReportsBadOnes()
    {
        using var temp = new TempFolder();
        var empty = temp.File("empty.jpg");
        var text = temp.File("notes.png");
        File.WriteAllBytes(empty, []);
        File.WriteAllText(text, "hello");
        string[] paths =
        [
            Fixtures.Path("images", "chelsea.png"), empty, Fixtures.Path("images", "coffee.png"), text,
            temp.File("missing.png"), Fixtures.Path("images", "horse.png"),
        ];
        using var model = ClipModel.Load(TinyClipReference.TinyClip, new ModelOptions { BatchSize = 2 });
        var progress = new List<EmbeddingProgress>();
        var results = new List<ImageEmbeddingResult>();
        await foreach (var r in new ImageEmbeddingPipeline(model, new ImageLoadOptions { ApplyExifOrientation = false }, 2)
            .RunAsync(paths, new SynchronousProgress(progress.Add)))
        {
            results.Add(r);
        }

        Assert.Equal(Enumerable.Range(0, paths.Length), results.Select(r => r.Index).Order());
        var byIndex = results.ToDictionary(r => r.Index);
        foreach (var bad in new[] { 1, 3, 4 })
        {
            Assert.Null(byIndex[bad].Embedding);
            Assert.Contains(Path.GetFileName(paths[bad]), byIndex[bad].Error);
        }

        // Same crops → same embeddings as embedding the reference crops directly (1e-6: same graph, same input).
        var expected = model.EmbedImages([TinyClipReference.ReferenceCrop("chelsea.png"), TinyClipReference.ReferenceCrop("coffee.png"), TinyClipReference.ReferenceCrop("horse.png")]);
        TinyClipReference.AssertClose(expected[0], byIndex[0].Embedding!, 1e-6f, "chelsea");
        TinyClipReference.AssertClose(expected[1], byIndex[2].Embedding!, 1e-6f, "coffee");
        TinyClipReference.AssertClose(expected[2], byIndex[5].Embedding!, 1e-6f, "horse");
        var last = progress[^1];
        Assert.Equal((6, 6, 3), (last.Done, last.Total, last.Failed));
    }

    [Fact]
    public async Task RunAsync_ManyDecoders_HoldNoMoreThanTheDecodeBudget()
    {
        using var temp = new TempFolder();
        var png = TestImages.SolidPng(2000, 2000);   // 16 MB decoded
        var paths = Enumerable.Range(0, 8).Select(i => temp.File($"big{i}.png")).ToArray();
        foreach (var path in paths)
        {
            File.WriteAllBytes(path, png);
        }

        // Room for two decodes at once; four decoders ask.
        var budget = new DecodeBudget(ImageLoader.PeakBytes(png, "big.png", PreprocessConfig.Default, new ImageLoadOptions()) * 2);
        using var model = ClipModel.Load(TinyClipReference.TinyClip, new ModelOptions { BatchSize = 4, Threads = 1 });
        var results = new List<ImageEmbeddingResult>();
        await foreach (var r in new ImageEmbeddingPipeline(model, new ImageLoadOptions { Budget = budget }, 4).RunAsync(paths))
        {
            results.Add(r);
        }

        Assert.All(results, r => Assert.NotNull(r.Embedding));
        Assert.Equal(8, results.Count);
        Assert.InRange(budget.Peak, 16_000_000, budget.Capacity);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task RunAsync_Cancelled_Stops()
    {
        using var model = ClipModel.Load(TinyClipReference.TinyClip);
        var paths = Enumerable.Repeat(Fixtures.Path("images", "astronaut.png"), 200).ToArray();
        using var cancel = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in new ImageEmbeddingPipeline(model).RunAsync(paths, null, cancel.Token))
            {
                if (++seen == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });
        Assert.True(seen < 200);
    }

    [Fact]
    public async Task RunAsync_NoFiles_EndsAtOnce()
    {
        using var model = ClipModel.Load(TinyClipReference.TinyClip);
        var count = 0;
        await foreach (var _ in new ImageEmbeddingPipeline(model).RunAsync([]))
        {
            count++;
        }

        Assert.Equal(0, count);
    }

    private sealed class SynchronousProgress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
