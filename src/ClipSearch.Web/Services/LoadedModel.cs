using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;

namespace ClipSearch.Web.Services;

/// <summary>
/// A loaded model and what belongs to it (its classifier cache, its description), reference-counted: the host holds
/// one reference and every running request one more; the ONNX sessions are disposed when the last one is released,
/// so unloading or swapping never pulls a model from under a running request.
/// </summary>
public sealed class LoadedModel
{
    private int _references = 1;

    internal LoadedModel(ClipModel model, long generation, long zeroShotCacheBytes = ZeroShotClassifier.DefaultCacheBytes, ZeroShotClassifier? classifier = null)
    {
        Model = model;
        Generation = generation;
        Info = ModelInfo.Of(model);
        Classifier = classifier ?? new ZeroShotClassifier(model, zeroShotCacheBytes);
        Identity = ModelIdentity.CacheKey(model);
    }

    /// <summary>The model files' identity (<see cref="ModelIdentity"/>), which keys disk caches.</summary>
    public string Identity { get; }

    /// <summary>The model.</summary>
    public ClipModel Model { get; }

    /// <summary>Counts loads: embeddings made with one generation are comparable with each other only.</summary>
    public long Generation { get; }

    /// <summary>Everything <c>clipsearch info</c> shows.</summary>
    public ModelInfo Info { get; }

    /// <summary>The zero-shot classifier with this model's label-embedding cache.</summary>
    public ZeroShotClassifier Classifier { get; }

    /// <summary>True once the host has let this model go (unloaded or replaced): background work for it stops.</summary>
    public bool Retired => Volatile.Read(ref _retired);

    private bool _retired;

    /// <summary>The host's own release: marks the model <see cref="Retired"/> and drops the host's reference.</summary>
    internal void Retire()
    {
        Volatile.Write(ref _retired, true);
        Release();
    }

    internal bool TryAddReference()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Model.Dispose();
        }
    }
}

/// <summary>A request's hold on a <see cref="LoadedModel"/>; dispose it when the request is done.</summary>
public readonly struct ModelLease : IDisposable
{
    private readonly ModelHost? _countedBy;

    internal ModelLease(LoadedModel loaded, ModelHost? countedBy)
    {
        Loaded = loaded;
        _countedBy = countedBy;
    }

    /// <summary>The model held.</summary>
    public LoadedModel Loaded { get; }

    /// <summary>The CLIP model held.</summary>
    public ClipModel Model => Loaded.Model;

    /// <summary>Releases the hold.</summary>
    public void Dispose()
    {
        Loaded?.Release();
        _countedBy?.RequestEnded();
    }
}
