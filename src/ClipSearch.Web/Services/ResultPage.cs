namespace ClipSearch.Web.Services;

/// <summary>A page of results.</summary>
/// <param name="Total">Results at or above the minimum score.</param>
/// <param name="Offset">Index of the first hit in the ranking.</param>
/// <param name="Hits">The page, best first.</param>
public sealed record ResultPage(int Total, int Offset, IReadOnlyList<SearchHit> Hits);
