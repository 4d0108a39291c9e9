using System.Threading.Channels;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Web.Services;

/// <summary>
/// Groups embedding requests that arrive together into one inference call per model and kind: eight clients
/// matching one image each become one vision batch of eight. One worker runs the model, so concurrent requests
/// queue here instead of fighting for the cores inside ONNX Runtime.
/// </summary>
public sealed class EmbeddingBatcher : IAsyncDisposable
{
    /// <summary>Requests taken into one round.</summary>
    private const int MaxJobsPerRound = 64;

    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    /// <summary>Starts the worker.</summary>
    public EmbeddingBatcher() => _worker = Task.Factory.StartNew(RunAsync, CancellationToken.None,
        TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private long _imagesEmbedded;

    /// <summary>Inference calls made (each may hold several requests).</summary>
    public long Rounds { get; private set; }

    /// <summary>Images embedded so far, all requests together.</summary>
    public long ImagesEmbedded => Interlocked.Read(ref _imagesEmbedded);

    /// <summary>Normalised embeddings of <paramref name="texts"/> with <paramref name="model"/> (which the caller holds).</summary>
    public Task<float[][]> EmbedTextsAsync(LoadedModel model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        Enqueue(new Job(model, texts, null, cancellationToken));

    /// <summary>Normalised embeddings of preprocessed <paramref name="crops"/> with <paramref name="model"/> (which the caller holds).</summary>
    public Task<float[][]> EmbedImagesAsync(LoadedModel model, IReadOnlyList<RgbImage> crops, CancellationToken cancellationToken = default) =>
        Enqueue(new Job(model, null, crops, cancellationToken));

    /// <summary>Stops the worker after the queued requests.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private Task<float[][]> Enqueue(Job job)
    {
        if (job.Count == 0)
        {
            return Task.FromResult(Array.Empty<float[]>());
        }

        if (!_queue.Writer.TryWrite(job))
        {
            throw new ObjectDisposedException(nameof(EmbeddingBatcher));
        }

        return job.Result.Task;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var round = new List<Job>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            round.Clear();
            while (round.Count < MaxJobsPerRound && reader.TryRead(out var job))
            {
                if (job.CancellationToken.IsCancellationRequested)
                {
                    job.Result.TrySetCanceled(job.CancellationToken);
                }
                else
                {
                    round.Add(job);
                }
            }

            foreach (var group in round.GroupBy(j => (j.Model, j.Texts is not null)))
            {
                Run([.. group]);
            }
        }
    }

    private void Run(Job[] jobs)
    {
        try
        {
            var model = jobs[0].Model.Model;
            Rounds++;
            float[][] embeddings = jobs[0].Texts is not null
                ? model.EmbedTexts([.. jobs.SelectMany(j => j.Texts!)])
                : model.EmbedImages([.. jobs.SelectMany(j => j.Crops!)]);
            if (jobs[0].Crops is not null)
            {
                Interlocked.Add(ref _imagesEmbedded, embeddings.Length);
            }

            var offset = 0;
            foreach (var job in jobs)
            {
                job.Result.TrySetResult(embeddings[offset..(offset + job.Count)]);
                offset += job.Count;
            }
        }
        catch (Exception e)
        {
            foreach (var job in jobs)
            {
                job.Result.TrySetException(e);
            }
        }
    }

    private sealed record Job(LoadedModel Model, IReadOnlyList<string>? Texts, IReadOnlyList<RgbImage>? Crops, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Texts?.Count ?? Crops!.Count;
    }
}
