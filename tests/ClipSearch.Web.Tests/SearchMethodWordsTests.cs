using System.Globalization;
using ClipSearch.Library.Search;
using ClipSearch.Web.Localization;

namespace ClipSearch.Web.Tests;

/// <summary>The search method worded by the web (issue 10): every kind in both languages, the numbers filled in.</summary>
public sealed class SearchMethodWordsTests
{
    public static TheoryData<SearchMethod> Methods() =>
    [
        new SearchMethod(SearchMethodKind.Hnsw) { Recall = 0.976, TextRecall = 0.962, TextQueries = 50, Candidates = 100, MeasuredOn = 50, HnswThreshold = 50_000 },
        new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.LowRecall, Recall = 0.41 },
        new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.LowRecall, Recall = 0.99, TextRecall = 0.62, TextQueries = 50 },
        new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.TextRecallUnmeasured, Recall = 0.97 },
        new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.BelowThreshold, HnswThreshold = 50_000 },
        new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.GraphNotBuilt, HnswThreshold = 50_000 },
        new SearchMethod(SearchMethodKind.Pgvector) { Candidates = 100 },
        new SearchMethod(SearchMethodKind.Pgvector) { Recall = 0.99, TextRecall = 0.955, TextQueries = 50, Candidates = 40, MeasuredOn = 50 },
    ];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Chinese_HasNoEnglishAndEveryNumber(SearchMethod method)
    {
        var chinese = SearchMethodWords.Describe(method, key => UiStrings.Chinese[key], CultureInfo.GetCultureInfo("zh-CN"));
        var english = SearchMethodWords.English(method);

        Assert.DoesNotContain("{", chinese, StringComparison.Ordinal);
        Assert.DoesNotContain("exact", chinese, StringComparison.Ordinal);
        Assert.DoesNotContain("graph", chinese, StringComparison.Ordinal);
        Assert.NotEqual(english, chinese);
        foreach (var number in new[] { method.Recall, method.TextRecall }.Select(r => r?.ToString("F2", CultureInfo.InvariantCulture))
            .Append(method.Candidates?.ToString(CultureInfo.InvariantCulture)))
        {
            if (number is not null && (method.ExactBecause is null || method.Candidates is null))
            {
                Assert.Contains(number, chinese, StringComparison.Ordinal);
                Assert.Contains(number, english, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void English_IsTheCommandLinesSentence()
    {
        Assert.Equal("HNSW graph, recall@10 0.98 for image queries and 0.96 for text queries against exact search with 100 candidates (measured on 50 of the library's images and 50 text prompts)",
            SearchMethodWords.English(new SearchMethod(SearchMethodKind.Hnsw) { Recall = 0.976, TextRecall = 0.962, TextQueries = 50, Candidates = 100, MeasuredOn = 50 }));
        Assert.Equal("exact (the HNSW graph found only 0.41 of the true top 10 with the most candidates tried on this library's vectors, so searches scan every vector)",
            SearchMethodWords.English(new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.LowRecall, Recall = 0.41 }));
        Assert.Equal("exact (with the most candidates tried, the HNSW graph found 0.99 of the true top 10 for image queries and 0.62 for text queries, not both enough, so searches scan every vector)",
            SearchMethodWords.English(new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.LowRecall, Recall = 0.99, TextRecall = 0.62, TextQueries = 50 }));
        Assert.Equal("exact (the HNSW graph found 0.97 of the true top 10 for image queries, but its recall for text queries is not measured yet: that happens at the next index run)",
            SearchMethodWords.English(new SearchMethod(SearchMethodKind.Exact) { ExactBecause = ExactSearchReason.TextRecallUnmeasured, Recall = 0.97 }));
        Assert.Equal("pgvector HNSW index, ef_search 100 (its recall is measured at the end of the next index run)",
            SearchMethodWords.English(new SearchMethod(SearchMethodKind.Pgvector) { Candidates = 100 }));
    }
}
