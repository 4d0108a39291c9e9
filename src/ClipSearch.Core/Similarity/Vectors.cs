using System.Numerics.Tensors;

namespace ClipSearch.Core.Similarity;

/// <summary>Vector maths on embeddings (SIMD through <see cref="TensorPrimitives"/>).</summary>
public static class Vectors
{
    /// <summary>A copy of <paramref name="vector"/> scaled to unit length (a zero vector stays zero).</summary>
    public static float[] Normalized(ReadOnlySpan<float> vector)
    {
        var result = vector.ToArray();
        NormalizeInPlace(result);
        return result;
    }

    /// <summary>
    /// Scales <paramref name="vector"/> to unit length in place; false (and the vector unchanged) when its length is
    /// zero or not finite.
    /// </summary>
    public static bool NormalizeInPlace(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm <= 0 || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Divide(vector, norm, vector);
        return true;
    }

    /// <summary>Cosine similarity of two vectors of any length.</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.CosineSimilarity(a, b);

    /// <summary>Euclidean length of <paramref name="vector"/>.</summary>
    public static float Norm(ReadOnlySpan<float> vector) => TensorPrimitives.Norm(vector);
}
