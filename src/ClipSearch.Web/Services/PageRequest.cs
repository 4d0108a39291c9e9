using ClipSearch.Library;

namespace ClipSearch.Web.Services;

/// <summary>Which page of results a search returns.</summary>
/// <param name="K">Results per page.</param>
/// <param name="Offset">Results to skip (paging).</param>
/// <param name="MinScore">Lowest cosine kept.</param>
/// <param name="ExcludeId">An image to leave out (the query image of "more like this").</param>
/// <param name="Filter">Only the photo library's images that pass it (null: all); the session's uploads take none.</param>
/// <param name="Sort">
/// The order: best first, or (the photo library only) the <see cref="DateSortedResults"/> best newest first, so that
/// every page of a date-ordered search comes from the same results.
/// </param>
public sealed record PageRequest(int K, int Offset, float MinScore, string? ExcludeId = null, LibraryFilter? Filter = null, LibrarySort Sort = LibrarySort.Relevance)
{
    /// <summary>How many of the best results a date-ordered search orders by date and pages through (the most a page may hold).</summary>
    public const int DateSortedResults = 200;

    /// <summary>True when a filter narrows the search or it is ordered by date: what only the photo library can do.</summary>
    public bool NeedsLibrary => Filter is { IsEmpty: false } || Sort != LibrarySort.Relevance;
}
