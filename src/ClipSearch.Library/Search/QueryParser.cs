using System.Globalization;
using System.Text;
using ClipSearch.Core;

namespace ClipSearch.Library.Search;

/// <summary>A text or an image, with the weight it adds to (or, negative, subtracts from) a query.</summary>
/// <param name="Text">The text, or the image path.</param>
/// <param name="IsImage">True when <paramref name="Text"/> is an image file.</param>
/// <param name="Weight">Its weight; negative for <c>- term</c>.</param>
public sealed record QueryTerm(string Text, bool IsImage, float Weight);

/// <summary>
/// Parses rclip-style combined queries: terms joined by <c>+</c> and <c>-</c> (<c>"cat" + "snow" - "dog"</c>), each
/// optionally weighted (<c>2:cat</c>, <c>0.5:"a dog"</c>); a term that names an existing image file is an image
/// query. <c>+</c> and <c>-</c> split only where they stand apart (surrounded by spaces or quotes), so
/// <c>t-shirt</c> stays one word. The query vector is the weighted sum of the terms' unit embeddings, normalised.
/// Weights must be finite (<c>NaN:cat</c> and <c>1e999:cat</c> are refused).
/// </summary>
public static class QueryParser
{
    /// <summary>Parses <paramref name="query"/>; an empty query or term is an error the user can fix.</summary>
    public static IReadOnlyList<QueryTerm> Parse(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var terms = new List<QueryTerm>();
        var sign = 1f;
        var current = new StringBuilder();
        var quoted = false;
        var hadQuotes = false;

        void Finish()
        {
            var raw = current.ToString().Trim();
            current.Clear();
            if (raw.Length == 0 && !hadQuotes)
            {
                if (terms.Count > 0 || sign < 0)
                {
                    throw new ClipSearchException($"Query '{query}': an operator has no term after it.");
                }

                return;
            }

            terms.Add(Term(raw, sign, query));
            hadQuotes = false;
        }

        for (var i = 0; i < query.Length; i++)
        {
            var c = query[i];
            if (c == '"')
            {
                quoted = !quoted;
                hadQuotes = true;
                continue;
            }

            var standsApart = !quoted && (c == '+' || c == '-')
                && (i == 0 || char.IsWhiteSpace(query[i - 1]) || query[i - 1] == '"')
                && (i == query.Length - 1 || char.IsWhiteSpace(query[i + 1]) || query[i + 1] == '"');
            if (standsApart)
            {
                if (current.ToString().Trim().Length > 0 || hadQuotes)
                {
                    Finish();
                }
                else if (terms.Count > 0)
                {
                    throw new ClipSearchException($"Query '{query}': two operators in a row.");
                }

                sign = c == '-' ? -1 : 1;
                continue;
            }

            current.Append(c);
        }

        if (quoted)
        {
            throw new ClipSearchException($"Query '{query}': a quote is not closed.");
        }

        Finish();
        if (terms.Count == 0)
        {
            throw new ClipSearchException("The query is empty: give a text, an image, or terms joined by + and -.");
        }

        return terms;
    }

    private static QueryTerm Term(string raw, float sign, string query)
    {
        var weight = 1f;
        var colon = raw.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && float.TryParse(raw[..colon], NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
        {
            // float.Parse reads "NaN", "Infinity" and 1e999 (as ∞): a weight must be a number the sum can use.
            if (!float.IsFinite(w))
            {
                throw new ClipSearchException($"Query '{query}': the weight '{raw[..colon]}' is not a finite number; weights are numbers such as 2 or 0.5.");
            }

            weight = w;
            raw = raw[(colon + 1)..].Trim().Trim('"');
        }

        if (raw.Length == 0)
        {
            throw new ClipSearchException($"Query '{query}': a weight has no term after it.");
        }

        var isImage = File.Exists(raw) && Indexing.FolderWalker.ImageExtensions.Contains(Path.GetExtension(raw));
        return new QueryTerm(isImage ? Path.GetFullPath(raw) : raw, isImage, sign * weight);
    }
}
