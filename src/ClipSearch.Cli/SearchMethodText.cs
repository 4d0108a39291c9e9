using System.Globalization;
using ClipSearch.Library.Search;

namespace ClipSearch.Cli;

/// <summary>The command line's words for how a library is searched (<c>library stats</c>, the end of <c>index</c>).</summary>
internal static class SearchMethodText
{
    /// <summary>One line in English: how searches find their results, and why.</summary>
    public static string Of(SearchMethod method) => (method.Kind, method.ExactBecause, method.Recall) switch
    {
        (SearchMethodKind.Exact, ExactSearchReason.LowRecall, var recall) when method.TextRecall is { } text =>
            Format($"exact (with the most candidates tried, the HNSW graph found {recall:F2} of the true top {method.K} for image queries and {text:F2} for text queries, not both enough, so searches scan every vector)"),
        (SearchMethodKind.Exact, ExactSearchReason.LowRecall, var recall) =>
            Format($"exact (the HNSW graph found only {recall:F2} of the true top {method.K} with the most candidates tried on this library's vectors, so searches scan every vector)"),
        (SearchMethodKind.Exact, ExactSearchReason.TextRecallUnmeasured, var recall) =>
            Format($"exact (the HNSW graph found {recall:F2} of the true top {method.K} for image queries, but its recall for text queries is not measured yet: that happens at the next index run)"),
        (SearchMethodKind.Exact, ExactSearchReason.GraphNotBuilt, _) => "exact until the HNSW graph is built (at the next index run or search)",
        (SearchMethodKind.Exact, _, _) => Format($"exact (an HNSW graph is built from {method.HnswThreshold:N0} images on)"),
        (SearchMethodKind.Pgvector, _, null) => Format($"pgvector HNSW index, ef_search {method.Candidates} (its recall is measured at the end of the next index run)"),
        (_, _, var recall) =>
            Format($"HNSW graph, recall@{method.K} {recall:F2} for image queries and {method.TextRecall:F2} for text queries against exact search with {method.Candidates} candidates (measured on {method.MeasuredOn} of the library's images and {method.TextQueries} text prompts)"),
    };

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
