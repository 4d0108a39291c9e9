using System.Text.Json;
using Cloud.Unum.USearch;

namespace ClipSearch.Library.Search;

/// <summary>
/// An approximate nearest-neighbour graph (HNSW, USearch) over a library's vectors, keyed by content id, saved
/// beside the database with a small JSON file that says which rows it covers. Its candidates are re-ranked
/// exactly by <see cref="InMemoryVectorIndex"/>, so it only has to find the right neighbourhood.
/// </summary>
public sealed class HnswIndex : IDisposable
{
    /// <summary>Graph degree (USearch's M): 32 rather than 16 keeps recall up on hard (spread-out) data.</summary>
    public const int Connectivity = 32;

    /// <summary>
    /// How the graph stores vectors: int8, a quarter of float32's size and faster to build and search, at
    /// the same recall once candidates are re-ranked with the exact vectors (bench/README.md, hnsw-tune).
    /// </summary>
    public const ScalarKind Quantization = ScalarKind.Int8;

    /// <summary>Breadth while adding (ef_construction).</summary>
    public const int ExpansionAdd = 128;

    /// <summary>Breadth while searching (ef); candidates asked for raise it where larger.</summary>
    public const int ExpansionSearch = 64;

    private const int AddChunk = 4096;
    private const int ParallelAddMinimum = 1024;
    private readonly USearchIndex _index;

    private HnswIndex(USearchIndex index, HnswCoverage coverage)
    {
        _index = index;
        Coverage = coverage;
    }

    /// <summary>What the graph holds.</summary>
    public HnswCoverage Coverage { get; private set; }

    /// <summary>
    /// Creates an empty cosine graph of <paramref name="dim"/>-d vectors, stored in the graph as
    /// <paramref name="quantization"/> (the exact re-ranking uses the library's own vectors).
    /// </summary>
    public static HnswIndex Create(int dim, string modelHash, long generation, ScalarKind quantization = Quantization,
        int connectivity = Connectivity, int expansionAdd = ExpansionAdd) =>
        new(new USearchIndex(MetricKind.Cos, quantization, (ulong)dim, (ulong)connectivity, (ulong)expansionAdd, ExpansionSearch),
            new HnswCoverage(modelHash, generation, 0, 0, dim));

    /// <summary>What the graph saved at <paramref name="path"/> holds (without loading it), or null.</summary>
    public static HnswCoverage? ReadCoverage(string path)
    {
        try
        {
            return File.Exists(path + ".json") ? JsonSerializer.Deserialize<HnswCoverage>(File.ReadAllText(path + ".json")) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Loads the graph saved at <paramref name="path"/> when it belongs to this model and generation, else null.</summary>
    public static HnswIndex? TryLoad(string path, string modelHash, long generation, int dim)
    {
        try
        {
            if (!File.Exists(path) || !File.Exists(path + ".json"))
            {
                return null;
            }

            var coverage = ReadCoverage(path);
            if (coverage is null || coverage.ModelHash != modelHash || coverage.Generation != generation || coverage.Dim != dim)
            {
                return null;
            }

            var index = new USearchIndex(path);
            if ((long)index.Size() != coverage.Count)
            {
                index.Dispose();
                return null;
            }

            return new HnswIndex(index, coverage);
        }
        catch (Exception e) when (e is IOException or JsonException or USearchException)
        {
            return null;   // a damaged file is rebuilt, never trusted
        }
    }

    /// <summary>Adds rows (ids ascending, above <see cref="HnswCoverage.MaxId"/>), on every core when there are many.</summary>
    public void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        if (ids.Length >= ParallelAddMinimum && Environment.ProcessorCount > 1 && UsearchCapacity.TryReserve(_index, (long)_index.Size() + ids.Length))
        {
            AddParallel(ids.ToArray(), vectors.ToArray());
            return;
        }

        var dim = Coverage.Dim;
        for (var start = 0; start < ids.Length; start += AddChunk)
        {
            var n = Math.Min(AddChunk, ids.Length - start);
            var keys = new ulong[n];
            var rows = new float[n][];
            for (var i = 0; i < n; i++)
            {
                keys[i] = (ulong)ids[start + i];
                rows[i] = vectors.Slice((start + i) * dim, dim).ToArray();
            }

            _index.Add(keys, rows);
            Coverage = Coverage with { Count = Coverage.Count + n, MaxId = ids[start + n - 1] };
        }
    }

    /// <summary>
    /// With the capacity reserved up front, USearch takes additions from several threads at once (each call
    /// locks a free thread context), and the wrapper's per-call capacity check then never grows the index.
    /// </summary>
    private void AddParallel(long[] ids, float[] vectors)
    {
        var dim = Coverage.Dim;
        try
        {
            // One thread per core: USearch holds as many thread contexts as the machine has cores.
            Parallel.For(0, ids.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                i => _index.Add((ulong)ids[i], vectors.AsSpan(i * dim, dim).ToArray()));
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is USearchException))
        {
            // No free thread context after all: finish on this thread.
            for (var i = 0; i < ids.Length; i++)
            {
                if (!_index.Contains((ulong)ids[i]))
                {
                    _index.Add((ulong)ids[i], vectors.AsSpan(i * dim, dim).ToArray());
                }
            }
        }

        Coverage = Coverage with { Count = Coverage.Count + ids.Length, MaxId = ids[^1] };
    }

    /// <summary>Records what <see cref="HnswRecallCheck"/> measured (saved with the graph).</summary>
    public void SetRecall(HnswRecall recall) => Coverage = Coverage with { Recall = recall };

    /// <summary>Up to <paramref name="count"/> content ids near <paramref name="query"/>.</summary>
    public ulong[] Search(float[] query, int count)
    {
        _index.Search(query, count, out var keys, out _);
        return keys;
    }

    /// <summary>Saves the graph and its coverage (written beside, then moved into place).</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        _index.Save(temp);
        File.Move(temp, path, overwrite: true);
        File.WriteAllText(path + ".json", JsonSerializer.Serialize(Coverage));
    }

    /// <inheritdoc/>
    public void Dispose() => _index.Dispose();
}

/// <summary>Which rows a saved graph holds.</summary>
/// <param name="ModelHash">The model of its vectors.</param>
/// <param name="Generation">The store's generation when built (deletions make it stale).</param>
/// <param name="Count">Vectors in it.</param>
/// <param name="MaxId">The largest content id in it.</param>
/// <param name="Dim">Vector length.</param>
/// <param name="Recall">How well it finds the library's nearest neighbours (<see cref="HnswRecallCheck"/>), once measured.</param>
public sealed record HnswCoverage(string ModelHash, long Generation, long Count, long MaxId, int Dim, HnswRecall? Recall = null);
