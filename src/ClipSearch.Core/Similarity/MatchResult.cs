using System.Numerics.Tensors;

namespace ClipSearch.Core.Similarity;

/// <summary>
/// How well each image matches each text, as CLIP scores it: cosine of the unit embeddings, logits =
/// exp(logit_scale) × cosine, and per image the softmax of its logits over the texts — CLIP's zero-shot
/// classification when the texts are class prompts.
/// </summary>
/// <param name="Cosine">[image][text] cosine similarity.</param>
/// <param name="Logits">[image][text] logits.</param>
/// <param name="Probabilities">[image][text] softmax over the texts of each image's logits.</param>
public sealed record MatchResult(float[][] Cosine, float[][] Logits, float[][] Probabilities)
{
    /// <summary>Scores every image against every text; the embeddings must be unit vectors of one length.</summary>
    public static MatchResult Compute(IReadOnlyList<float[]> imageEmbeddings, IReadOnlyList<float[]> textEmbeddings, float logitScale)
    {
        var cosine = new float[imageEmbeddings.Count][];
        var logits = new float[imageEmbeddings.Count][];
        var probabilities = new float[imageEmbeddings.Count][];
        for (var i = 0; i < imageEmbeddings.Count; i++)
        {
            cosine[i] = new float[textEmbeddings.Count];
            for (var t = 0; t < textEmbeddings.Count; t++)
            {
                cosine[i][t] = TensorPrimitives.Dot(imageEmbeddings[i], textEmbeddings[t]);
            }

            logits[i] = new float[textEmbeddings.Count];
            TensorPrimitives.Multiply(cosine[i], logitScale, logits[i]);
            probabilities[i] = new float[textEmbeddings.Count];
            if (textEmbeddings.Count > 0)
            {
                // Shifted by the largest logit: TensorPrimitives.SoftMax overflows to NaN once a logit passes ~88.
                var shifted = new float[textEmbeddings.Count];
                TensorPrimitives.Subtract(logits[i], TensorPrimitives.Max(logits[i]), shifted);
                TensorPrimitives.SoftMax(shifted, probabilities[i]);
            }
        }

        return new MatchResult(cosine, logits, probabilities);
    }
}
