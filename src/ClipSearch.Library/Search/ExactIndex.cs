using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace ClipSearch.Library.Search;

/// <summary>
/// Every vector of a library, contiguous in memory (float32, or float16 to halve the memory), searched exactly:
/// one dot product per row (<see cref="ScanKernel"/>, SIMD), rows split across the cores, a small heap
/// per thread for the top k. Vectors are unit length, so the dot product is the cosine. Appending while others
/// search is safe: a search sees the rows that were there when it started.
/// </summary>
public sealed class ExactIndex
{
    private const int MinRowsPerThread = 4096;
    private readonly Lock _lock = new();

    // What searches read: replaced as a whole when rows are appended (the arrays grow into new copies, or the new
    // rows are written beyond the old count first), so a reader needs no lock, just one read of this field.
    private Rows _rows = new([], [], [], 0);

    /// <summary>Creates an empty index of <paramref name="dim"/>-d vectors.</summary>
    public ExactIndex(int dim, bool halfPrecision = false)
    {
        Dim = dim;
        HalfPrecision = halfPrecision;
    }

    /// <summary>Length of each vector.</summary>
    public int Dim { get; }

    /// <summary>True when rows are kept as float16.</summary>
    public bool HalfPrecision { get; }

    /// <summary>Rows in the index.</summary>
    public int Count => Snapshot().Count;

    /// <summary>The largest id added (ids are appended in ascending order), or 0.</summary>
    public long MaxId { get; private set; }

    /// <summary>Bytes the vectors and ids take (capacity included).</summary>
    public long MemoryBytes
    {
        get
        {
            var (single, half, ids, _) = Snapshot();
            return (HalfPrecision ? half.LongLength * 2 : single.LongLength * 4) + (ids.LongLength * 8);
        }
    }

    /// <summary>Threads a search may use (default: every core).</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>Appends rows (ids ascending, above <see cref="MaxId"/>).</summary>
    public void Add(ReadOnlySpan<long> ids, ReadOnlySpan<float> vectors)
    {
        if (vectors.Length != ids.Length * Dim)
        {
            throw new ArgumentException($"{ids.Length} ids need {ids.Length * Dim} floats, got {vectors.Length}.", nameof(vectors));
        }

        lock (_lock)
        {
            var (single, half, stored, count) = _rows;
            var needed = count + ids.Length;
            if (needed > stored.Length)
            {
                var capacity = Math.Max(needed, Math.Max(1024, stored.Length * 3 / 2));
                Array.Resize(ref stored, capacity);
                if (HalfPrecision)
                {
                    Array.Resize(ref half, capacity * Dim);
                }
                else
                {
                    Array.Resize(ref single, capacity * Dim);
                }
            }

            ids.CopyTo(stored.AsSpan(count));
            if (HalfPrecision)
            {
                TensorPrimitives.ConvertToHalf(vectors, half.AsSpan(count * Dim, vectors.Length));
            }
            else
            {
                vectors.CopyTo(single.AsSpan(count * Dim));
            }

            if (ids.Length > 0)
            {
                MaxId = ids[^1];
            }

            Volatile.Write(ref _rows, new Rows(single, half, stored, needed));
        }
    }

    /// <summary>Copies row <paramref name="row"/> into <paramref name="target"/>.</summary>
    public void CopyRow(int row, Span<float> target)
    {
        var (single, half, _, _) = Snapshot();
        if (HalfPrecision)
        {
            TensorPrimitives.ConvertToSingle(half.AsSpan(row * Dim, Dim), target);
        }
        else
        {
            single.AsSpan(row * Dim, Dim).CopyTo(target);
        }
    }

    /// <summary>The row holding <paramref name="id"/>, or -1 (ids are ascending: a binary search).</summary>
    public int RowOf(long id)
    {
        var (_, _, ids, count) = Snapshot();
        var row = Array.BinarySearch(ids, 0, count, id);
        return row >= 0 ? row : -1;
    }

    /// <summary>The id of row <paramref name="row"/>.</summary>
    public long IdAt(int row) => Snapshot().Ids[row];

    /// <summary>The cosine of <paramref name="query"/> with row <paramref name="row"/>, to the bit as a scan scores it.</summary>
    public float Score(ReadOnlySpan<float> query, int row)
    {
        var (single, half, _, _) = Snapshot();
        if (!HalfPrecision)
        {
            return ScanKernel.Dot(query, single.AsSpan(row * Dim, Dim));
        }

        Span<float> buffer = stackalloc float[Dim];
        TensorPrimitives.ConvertToSingle(half.AsSpan(row * Dim, Dim), buffer);
        return ScanKernel.Dot(query, buffer);
    }

    /// <summary>The <paramref name="k"/> rows most similar to <paramref name="query"/>, best first.</summary>
    public IReadOnlyList<VectorRowHit> Search(ReadOnlySpan<float> query, int k)
    {
        var (single, half, ids, count) = Snapshot();
        if (count == 0 || k <= 0)
        {
            return [];
        }

        var q = query.ToArray();
        var parts = Math.Clamp(count / MinRowsPerThread, 1, Math.Max(1, Threads));
        var partial = new VectorRowHit[parts][];
        void Part(int p)
        {
            var start = (int)((long)count * p / parts);
            var end = (int)((long)count * (p + 1) / parts);
            partial[p] = HalfPrecision ? TopHalf(q, half, start, end, k) : TopSingle(q, single, start, end, k);
        }

        if (parts == 1)
        {
            Part(0);   // a small library: no thread to wake
        }
        else
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part);
        }
        return WithIds(TopRows.Merge(partial, k), ids);
    }

    /// <summary>
    /// The <paramref name="k"/> rows among those whose id is in <paramref name="ids"/> most similar to
    /// <paramref name="query"/>, best first: an exact scan of that subset (a filtered search).
    /// </summary>
    public IReadOnlyList<VectorRowHit> SearchAmong(ReadOnlySpan<float> query, int k, IReadOnlySet<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var (_, _, rowIds, count) = Snapshot();
        if (count == 0 || k <= 0 || ids.Count == 0)
        {
            return [];
        }

        var heap = new TopRows(k);
        for (var row = 0; row < count; row++)
        {
            if (ids.Contains(rowIds[row]))
            {
                heap.Offer(row, Score(query, row));
            }
        }

        return WithIds(heap.Drain(), rowIds);
    }

    /// <summary>
    /// The <paramref name="k"/> of <paramref name="rows"/> (row numbers, ascending, each once) most similar to
    /// <paramref name="query"/>, best first (ties: the lower row): an exact scan of just those rows, split across the
    /// cores when there are many.
    /// </summary>
    public IReadOnlyList<VectorRowHit> SearchRows(ReadOnlySpan<float> query, int k, int[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var (_, _, ids, _) = Snapshot();
        if (rows.Length == 0 || k <= 0)
        {
            return [];
        }

        var q = query.ToArray();
        var parts = Math.Clamp(rows.Length / MinRowsPerThread, 1, Math.Max(1, Threads));
        var partial = new VectorRowHit[parts][];
        void Part(int p)
        {
            var heap = new TopRows(k);
            var end = (int)((long)rows.Length * (p + 1) / parts);
            for (var i = (int)((long)rows.Length * p / parts); i < end; i++)
            {
                heap.Offer(rows[i], Score(q, rows[i]));
            }

            partial[p] = heap.Drain();
        }

        if (parts == 1)
        {
            Part(0);
        }
        else
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part);
        }

        return WithIds(TopRows.Merge(partial, k), ids);
    }

    // Rows scored per kernel call: the scores stay in the first level cache, the rows stream through.
    private const int Block = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private VectorRowHit[] TopSingle(float[] q, float[] data, int start, int end, int k)
    {
        var heap = new TopRows(k);
        var dim = Dim;
        Span<float> scores = stackalloc float[Block];
        for (var row = start; row < end; row += Block)
        {
            var rows = Math.Min(Block, end - row);
            ScanKernel.Dots(q, data.AsSpan(row * dim, rows * dim), scores[..rows]);
            Offer(heap, row, scores[..rows]);
        }

        return heap.Drain();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private VectorRowHit[] TopHalf(float[] q, Half[] data, int start, int end, int k)
    {
        var heap = new TopRows(k);
        var dim = Dim;
        var buffer = new float[Block * dim];   // convert a block of rows at once: fewer, longer SIMD loops
        Span<float> scores = stackalloc float[Block];
        for (var row = start; row < end; row += Block)
        {
            var rows = Math.Min(Block, end - row);
            TensorPrimitives.ConvertToSingle(data.AsSpan(row * dim, rows * dim), buffer.AsSpan(0, rows * dim));
            ScanKernel.Dots(q, buffer.AsSpan(0, rows * dim), scores[..rows]);
            Offer(heap, row, scores[..rows]);
        }

        return heap.Drain();
    }

    /// <summary>Offers a block's scores to the heap; most fall below its worst, which costs one comparison.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Offer(TopRows heap, int firstRow, ReadOnlySpan<float> scores)
    {
        var worst = heap.Worst;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] > worst)
            {
                heap.Offer(firstRow + i, scores[i]);
                worst = heap.Worst;
            }
        }
    }

    private static VectorRowHit[] WithIds(VectorRowHit[] hits, long[] ids)
    {
        for (var i = 0; i < hits.Length; i++)
        {
            hits[i] = hits[i] with { Id = ids[hits[i].Row] };
        }

        return hits;
    }

    private Rows Snapshot() => Volatile.Read(ref _rows);

    private sealed record Rows(float[] Single, Half[] Half, long[] Ids, int Count);
}

/// <summary>A row of an <see cref="ExactIndex"/> and its score.</summary>
/// <param name="Row">Row number.</param>
/// <param name="Id">Content id (set on the results of <see cref="ExactIndex.Search"/>).</param>
/// <param name="Score">Cosine similarity.</param>
public readonly record struct VectorRowHit(int Row, long Id, float Score);
