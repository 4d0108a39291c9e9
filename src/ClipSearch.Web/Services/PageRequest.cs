namespace ClipSearch.Web.Services;

/// <summary>Which page of results a search returns.</summary>
/// <param name="K">Results per page.</param>
/// <param name="Offset">Results to skip (paging).</param>
/// <param name="MinScore">Lowest cosine kept.</param>
/// <param name="ExcludeId">An image to leave out (the query image of "more like this").</param>
public sealed record PageRequest(int K, int Offset, float MinScore, string? ExcludeId = null);
