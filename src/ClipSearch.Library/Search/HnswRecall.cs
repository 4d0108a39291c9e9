namespace ClipSearch.Library.Search;

/// <summary>What <see cref="HnswRecallCheck"/> found for an approximate index (a graph in memory, pgvector's index).</summary>
/// <param name="CandidatesPerResult">
/// Candidates per result to ask the graph for: the fewest with which both kinds of query reach the minimum recall;
/// 0 when no setting tried does. With <see cref="TextRecall"/> unmeasured, the fewest with which image queries do.
/// </param>
/// <param name="Recall">recall@10 of image queries (the library's own vectors) against exact search with those candidates (or with the most tried).</param>
/// <param name="AtCount">Vectors in the library when measured (a library that grows by a quarter is measured again).</param>
/// <param name="TextRecall">
/// recall@10 of text queries (<see cref="RecallTextQueries"/>) with the same candidates, or null when the library
/// had no text queries to measure with (no text encoder at the check).
/// </param>
/// <param name="TextQueries">Text queries measured (0 when <see cref="TextRecall"/> is null).</param>
public sealed record HnswRecall(int CandidatesPerResult, double Recall, long AtCount, double? TextRecall = null, int TextQueries = 0)
{
    /// <summary>True when searches go through the graph: both kinds of query were measured and reached the minimum recall.</summary>
    public bool Usable => CandidatesPerResult > 0 && TextRecall is not null;

    /// <summary>True when image queries reached the minimum recall but the text queries could not be measured.</summary>
    public bool TextUnmeasured => CandidatesPerResult > 0 && TextRecall is null;
}
