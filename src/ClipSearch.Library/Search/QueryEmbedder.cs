using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;

namespace ClipSearch.Library.Search;

/// <summary>Turns query terms into one unit vector: the weighted sum of their unit embeddings, normalised.</summary>
public static class QueryEmbedder
{
    /// <summary>Embeds <paramref name="terms"/> with <paramref name="model"/> (texts in one batch, images in another).</summary>
    public static float[] Embed(ClipModel model, IReadOnlyList<QueryTerm> terms, ImageLoadOptions loadOptions)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.FirstOrDefault(t => !float.IsFinite(t.Weight)) is { } bad)
        {
            throw new ClipSearchException($"The weight of '{bad.Text}' is not a finite number ({bad.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
        }

        // Only the weights' ratios matter (the sum is normalised): dividing by the largest keeps the sum finite
        // whatever the weights (3e38:cat + 3e38:dog would overflow to infinity).
        var scale = terms.Count == 0 ? 1 : terms.Max(t => Math.Abs(t.Weight));
        if (scale > 0)
        {
            terms = [.. terms.Select(t => t with { Weight = t.Weight / scale })];
        }

        var texts = terms.Where(t => !t.IsImage).ToList();
        var images = terms.Where(t => t.IsImage).ToList();
        var sum = new float[model.EmbeddingDim];
        if (texts.Count > 0)
        {
            var embeddings = model.EmbedTexts([.. texts.Select(t => t.Text)]);
            for (var i = 0; i < texts.Count; i++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(embeddings[i], texts[i].Weight, sum, sum);
            }
        }

        if (images.Count > 0)
        {
            if (images.FirstOrDefault(i => !File.Exists(i.Text)) is { } missing)
            {
                throw new ClipSearchException($"{missing.Text}: no such image file.");
            }

            var crops = images.Select(i => ImageLoader.LoadCrop(i.Text, model.Preprocess, loadOptions)).ToList();
            var embeddings = model.EmbedImages(crops);
            for (var i = 0; i < images.Count; i++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(embeddings[i], images[i].Weight, sum, sum);
            }
        }

        if (!Core.Similarity.Vectors.NormalizeInPlace(sum))
        {
            throw new ClipSearchException("The query's terms cancel out (their weighted sum is zero): change a weight or a term.");
        }

        return sum;
    }
}
