using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using ClipSearch.Web.Services;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Tests;

/// <summary>
/// Labels evicted while a request reads them from the classifier's cache: before, the request checked that they
/// were all cached, then read them, and any evicted in between were embedded on the request's thread, outside the
/// one-label-set-at-a-time lock, without progress or cancellation, and reported as "Memory". Now they are read at
/// once or not at all (<see cref="ZeroShotClassifier.TryGetAll"/>).
/// </summary>
public sealed class ZeroShotLabelsRaceTests
{
    private const int Dimension = 4;

    [Fact]
    public async Task Embeddings_LabelsEvictedMeanwhile_AreNeverEmbeddedUnderTheMemorySource()
    {
        var labels = Enumerable.Range(0, 200).Select(i => $"label {i:000}").ToArray();
        string[] templates = ["a {}"];
        long embeds = 0;
        float[][] Embed(IReadOnlyList<string> texts)
        {
            Interlocked.Add(ref embeds, texts.Count);
            return [.. texts.Select(Vector)];
        }

        // Room for exactly the request's labels: one more entry evicts the least recently used of them.
        long entryBytes = (Dimension * sizeof(float)) + ("label 000".Length * sizeof(char)) + 160;
        var classifier = new ZeroShotClassifier(Embed, 100f, labels.Length * entryBytes);
        using var model = ClipModel.Load(TinyClip.ModelPath, new ModelOptions { Threads = 1 });
        var loaded = new LoadedModel(model, 1, classifier: classifier);
        using var home = new TempFolder();
        using var zeroShot = new ZeroShotLabels(new AppFolders(Options.Create(new ClipSearchOptions { Home = home.Path })), NullLogger<ZeroShotLabels>.Instance);
        float[][] stored = [.. labels.Select(Vector)];

        // The evictor adds one label of its own a random moment after each request starts. It spins instead of
        // sleeping (waking a sleeping thread takes longer than a cached read), and the moments' range follows what
        // it finds: shorter while every eviction lands after the read, longer while every one lands before.
        var started = 0;
        var evictions = 0;
        var maxSpin = 4000;
        var stop = false;
        var evictor = Task.Factory.StartNew(() =>
        {
            var random = new Random(9);
            for (var n = 0; ; n++)
            {
                while (Volatile.Read(ref started) == n)
                {
                    if (Volatile.Read(ref stop))
                    {
                        return;
                    }

                    Thread.SpinWait(1);
                }

                Thread.SpinWait(random.Next(0, Volatile.Read(ref maxSpin) + 1));
                classifier.Remember([$"evict {n:000000}"], templates, [Vector("x")]);
                Interlocked.Increment(ref evictions);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        int memory = 0, computed = 0, embeddedAsMemory = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < 600 && clock.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                classifier.Remember(labels, templates, stored);   // all cached again (the evictor's entry goes)
                var before = Interlocked.Read(ref embeds);
                Interlocked.Increment(ref started);
                var (source, embeddings) = await zeroShot.EmbeddingsAsync(loaded, null, labels, templates, null, CancellationToken.None);
                var embeddedNow = Interlocked.Read(ref embeds) - before;
                while (Volatile.Read(ref evictions) <= i)
                {
                    Thread.SpinWait(1);
                }

                Assert.Equal(labels.Length, embeddings.Length);
                if (source == LabelEmbeddingSource.Memory)
                {
                    memory++;
                    embeddedAsMemory += embeddedNow > 0 ? 1 : 0;
                }
                else
                {
                    computed++;
                }

                if (i % 20 == 19)
                {
                    maxSpin = computed == 0 ? Math.Max(1, maxSpin / 2) : memory == 0 ? Math.Min(1 << 22, maxSpin * 2) : maxSpin;
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            await evictor;
        }

        Assert.True(memory > 0 && computed > 0, $"the eviction should land both before and after the read ({memory} memory, {computed} computed)");
        Assert.Equal(0, embeddedAsMemory);
    }

    private static float[] Vector(string text)
    {
        var v = new float[Dimension];
        v[text.Length % Dimension] = 1;
        return v;
    }
}
