namespace ClipSearch.Library.Search;

/// <summary>What <see cref="HnswRecallCheck"/> found for an approximate index (a graph in memory, pgvector's index).</summary>
/// <param name="CandidatesPerResult">Candidates per result to ask the graph for; 0 when the graph is not used.</param>
/// <param name="Recall">recall@10 against exact search with those candidates (or with the most tried).</param>
/// <param name="AtCount">Vectors in the library when measured (a library that grows by a quarter is measured again).</param>
public sealed record HnswRecall(int CandidatesPerResult, double Recall, long AtCount)
{
    /// <summary>True when searches go through the graph.</summary>
    public bool Usable => CandidatesPerResult > 0;
}
