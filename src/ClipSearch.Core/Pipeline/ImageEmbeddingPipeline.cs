using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;

namespace ClipSearch.Core.Pipeline;

/// <summary>The outcome for one image: its embedding, or why it has none.</summary>
/// <param name="Index">Position in the input list.</param>
/// <param name="Path">The image file.</param>
/// <param name="Embedding">Unit-length embedding, or null when the image could not be used.</param>
/// <param name="Error">Why the image could not be used (a message for the user), or null.</param>
public sealed record ImageEmbeddingResult(int Index, string Path, float[]? Embedding, string? Error);

/// <summary>Where a run stands.</summary>
/// <param name="Done">Images finished (embedded or failed).</param>
/// <param name="Total">Images in the run.</param>
/// <param name="Failed">Images that could not be used.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record EmbeddingProgress(int Done, int Total, int Failed, TimeSpan Elapsed)
{
    /// <summary>Throughput so far.</summary>
    public double ImagesPerSecond => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Embeds image files end to end: decoder threads read and preprocess images ahead of inference into a bounded
/// queue, and one inference loop takes them in batches. A file that cannot be read becomes a result with an error;
/// the rest of the run goes on.
/// </summary>
/// <remarks>
/// When ONNX Runtime's threads and the decoders together ask for more cores than the machine has (the default:
/// both use every core), decoding pauses while a batch is inferred and runs, on every core, while the model waits
/// for the next batch. Decoding alongside inference looks like overlap but is slower there: ONNX Runtime splits each
/// operator evenly over its threads and waits for the slowest, so one preempted thread stalls the whole batch
/// (on 2 cores, interleaving measured slower than taking turns; figures in bench/README.md).
/// </remarks>
public sealed class ImageEmbeddingPipeline(ClipModel model, ImageLoadOptions? loadOptions = null, int decoderThreads = 0)
{
    private readonly ClipModel _model = model;
    private readonly ImageLoadOptions _loadOptions = loadOptions ?? new ImageLoadOptions();
    private readonly int _decoderThreads = decoderThreads > 0 ? decoderThreads : Environment.ProcessorCount;

    /// <summary>Whether decoding waits while a batch is inferred (see the remarks on the class).</summary>
    public bool TakesTurns => _decoderThreads + _model.Options.Threads > Environment.ProcessorCount;

    /// <summary>Embeds <paramref name="paths"/>; results arrive batch by batch, not necessarily in input order.</summary>
    public async IAsyncEnumerable<ImageEmbeddingResult> RunAsync(IReadOnlyList<string> paths,
        IProgress<EmbeddingProgress>? progress = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var batchSize = _model.Options.BatchSize;
        var decoded = Channel.CreateBounded<Decoded>(new BoundedChannelOptions(batchSize * 2) { SingleReader = true });
        var results = Channel.CreateUnbounded<ImageEmbeddingResult>(new UnboundedChannelOptions { SingleReader = true });
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = linked.Token;

        using var decodeGate = new ManualResetEventSlim(initialState: true);
        var next = -1;
        var decoders = Enumerable.Range(0, Math.Min(_decoderThreads, Math.Max(1, paths.Count))).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < paths.Count; i = Interlocked.Increment(ref next))
            {
                decodeGate.Wait(token);
                var item = await DecodeAsync(i, paths[i], token).ConfigureAwait(false);
                await decoded.Writer.WriteAsync(item, token).ConfigureAwait(false);
            }
        }, token)).ToArray();
        var allDecoded = Task.WhenAll(decoders).ContinueWith(t => decoded.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        var gate = TakesTurns ? decodeGate : null;
        var inference = Task.Run(() => InferAsync(decoded.Reader, results.Writer, gate, paths.Count, batchSize, progress, token), token);

        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                yield return result;
            }
        }
        finally
        {
            // However the caller stops (end, break, cancellation, error), nothing of the run outlives it: the model
            // may be disposed as soon as this returns, so wait for the decoders and the inference loop to finish.
            await linked.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(inference, allDecoded).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        await inference.ConfigureAwait(false); // an inference error (not a cancellation) reaches the caller
    }

    private async Task InferAsync(ChannelReader<Decoded> reader, ChannelWriter<ImageEmbeddingResult> writer, ManualResetEventSlim? decodeGate, int total,
        int batchSize, IProgress<EmbeddingProgress>? progress, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        int done = 0, failed = 0;
        var batch = new List<Decoded>(batchSize);
        try
        {
            var more = true;
            while (more)
            {
                // Fill a batch; wait for more only while the decoders are still running.
                while (batch.Count < batchSize)
                {
                    if (!reader.TryRead(out var item))
                    {
                        if (await reader.WaitToReadAsync(token).ConfigureAwait(false))
                        {
                            continue;
                        }

                        more = false;
                        break;
                    }

                    if (item.Crop is not null)
                    {
                        batch.Add(item);
                        continue;
                    }

                    failed++;
                    done++;
                    writer.TryWrite(new ImageEmbeddingResult(item.Index, item.Path, null, item.Error));
                }

                if (batch.Count > 0)
                {
                    float[][] embeddings;
                    decodeGate?.Reset();
                    try
                    {
                        embeddings = _model.EmbedImages([.. batch.Select(b => b.Crop!)]);
                    }
                    finally
                    {
                        decodeGate?.Set();
                    }

                    for (var i = 0; i < batch.Count; i++)
                    {
                        writer.TryWrite(new ImageEmbeddingResult(batch[i].Index, batch[i].Path, embeddings[i], null));
                    }

                    done += batch.Count;
                    batch.Clear();
                }

                progress?.Report(new EmbeddingProgress(done, total, failed, clock.Elapsed));
            }

            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
        }
    }

    // Through the decode budget (ImageLoadOptions.Budget, else the process's): however many decoders, the pixels
    // they hold together stay within it, and a decoder waiting for it blocks no thread.
    private async Task<Decoded> DecodeAsync(int index, string path, CancellationToken token)
    {
        try
        {
            return new Decoded(index, path, await ImageLoader.LoadCropAsync(path, _model.Preprocess, _loadOptions, token).ConfigureAwait(false), null);
        }
        catch (ClipSearchException e)
        {
            return new Decoded(index, path, null, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Decoded(index, path, null, $"{path} could not be read: {e.Message}");
        }
    }

    private sealed record Decoded(int Index, string Path, RgbImage? Crop, string? Error);
}
