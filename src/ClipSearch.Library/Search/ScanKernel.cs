using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ClipSearch.Library.Search;

/// <summary>
/// The exact scan's inner loop: the dot product of one query with a block of rows, each row's score compared with
/// the worst of the k kept so far, in one method the JIT compiles fully optimised on its first call.
/// </summary>
/// <remarks>
/// Why not <see cref="System.Numerics.Tensors.TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per
/// row, as before: the first scan of a process then ran it (and the heap around it) as tier-0 code, millions of
/// calls before tiered compilation replaced it, and cost 4–14 × a warm scan (bench/README.md, issue #13). Marking the
/// loop that called it <see cref="MethodImplOptions.AggressiveOptimization"/> did not help, since the callee tiers on
/// its own. Here the whole loop, rows and lanes, is one <see cref="MethodImplOptions.AggressiveOptimization"/>
/// method: it is jitted once, optimised, before its first row. The sums run over 512-, 256- or 128-bit lanes
/// (whichever the CPU accelerates) with fused multiply-adds, so a score can differ from
/// <c>TensorPrimitives.Dot</c>'s in the last bits (a different order of the same additions).
/// </remarks>
internal static class ScanKernel
{
    /// <summary>
    /// Scores <paramref name="rows"/> (row-major, <paramref name="query"/>'s length each) against the query into
    /// <paramref name="scores"/>, one per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dots(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, Span<float> scores)
    {
        var dim = query.Length;
        var count = scores.Length;
        if (rows.Length < count * dim)
        {
            throw new ArgumentException($"{count} rows of {dim} need {count * dim} floats, got {rows.Length}.", nameof(rows));
        }

        ref var q = ref MemoryMarshal.GetReference(query);
        ref var r = ref MemoryMarshal.GetReference(rows);
        for (var row = 0; row < count; row++)
        {
            scores[row] = Dot(ref q, ref Unsafe.Add(ref r, (nint)row * dim), dim);
        }
    }

    /// <summary>The dot product of two vectors of one length, summed as <see cref="Dots"/> sums each row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vectors of {a.Length} and {b.Length} floats.", nameof(b));
        }

        return Dot(ref MemoryMarshal.GetReference(a), ref MemoryMarshal.GetReference(b), a.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float a, ref float b, int length)
    {
        var i = 0;
        var sum = 0f;
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= length - (2 * Vector512<float>.Count); i += 2 * Vector512<float>.Count)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(
                    Vector512.LoadUnsafe(ref a, (nuint)(i + Vector512<float>.Count)), Vector512.LoadUnsafe(ref b, (nuint)(i + Vector512<float>.Count)), acc1);
            }

            for (; i <= length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc0);
            }

            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= length - (2 * Vector256<float>.Count); i += 2 * Vector256<float>.Count)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(
                    Vector256.LoadUnsafe(ref a, (nuint)(i + Vector256<float>.Count)), Vector256.LoadUnsafe(ref b, (nuint)(i + Vector256<float>.Count)), acc1);
            }

            for (; i <= length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
            }

            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                acc = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i), acc);
            }

            sum = Vector128.Sum(acc);
        }

        for (; i < length; i++)
        {
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), sum);
        }

        return sum;
    }
}
