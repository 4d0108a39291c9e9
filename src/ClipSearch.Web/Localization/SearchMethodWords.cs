using System.Globalization;
using ClipSearch.Library.Search;

namespace ClipSearch.Web.Localization;

/// <summary>The web's words for how a library is searched (<see cref="SearchMethod"/>), in the UI's languages (<see cref="Ui"/>).</summary>
public static class SearchMethodWords
{
    /// <summary>In English, for the API's <c>search</c> string.</summary>
    public static string English(SearchMethod method) => Describe(method, Ui.EnglishText, CultureInfo.InvariantCulture);

    /// <summary>One line: how searches find their results, and why, with <paramref name="words"/> (a key's string) and numbers in <paramref name="culture"/>.</summary>
    public static string Describe(SearchMethod method, Func<string, string> words, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(words);
        var recall = method.Recall?.ToString("F2", culture);
        var text = method.TextRecall?.ToString("F2", culture);
        return (method.Kind, method.ExactBecause, method.Recall) switch
        {
            (SearchMethodKind.Exact, ExactSearchReason.LowRecall, _) when text is not null =>
                string.Format(culture, words("search.method.exact.lowrecall.text"), method.K, recall, text),
            (SearchMethodKind.Exact, ExactSearchReason.LowRecall, _) => string.Format(culture, words("search.method.exact.lowrecall"), method.K, recall),
            (SearchMethodKind.Exact, ExactSearchReason.TextRecallUnmeasured, _) => string.Format(culture, words("search.method.exact.textunmeasured"), method.K, recall),
            (SearchMethodKind.Exact, ExactSearchReason.GraphNotBuilt, _) => words("search.method.exact.notbuilt"),
            (SearchMethodKind.Exact, _, _) => string.Format(culture, words("search.method.exact.threshold"), method.HnswThreshold.ToString("N0", culture)),
            (SearchMethodKind.Pgvector, _, null) => string.Format(culture, words("search.method.pgvector"), method.Candidates),
            _ => string.Format(culture, words("search.method.hnsw"), method.K, recall, method.Candidates, method.MeasuredOn, text, method.TextQueries),
        };
    }
}
