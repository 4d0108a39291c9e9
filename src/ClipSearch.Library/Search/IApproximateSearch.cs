namespace ClipSearch.Library.Search;

/// <summary>
/// What <see cref="HnswRecallCheck"/> measures: an approximate index (the in-memory HNSW graph, pgvector's HNSW
/// index) beside exact search over the same vectors.
/// </summary>
public interface IApproximateSearch
{
    /// <summary>Candidates per result tried in turn, fewest first.</summary>
    IReadOnlyList<int> CandidateSteps { get; }

    /// <summary>Vectors in the index.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>About <paramref name="count"/> of the index's own vectors, spread over it, with their ids (the queries).</summary>
    Task<IReadOnlyList<(long Id, float[] Vector)>> SampleAsync(int count, CancellationToken cancellationToken);

    /// <summary>The ids of the <paramref name="k"/> nearest vectors, exactly.</summary>
    Task<IReadOnlyList<long>> SearchExactAsync(float[] query, int k, CancellationToken cancellationToken);

    /// <summary>The ids of the <paramref name="k"/> nearest vectors through the approximate index, with <paramref name="candidatesPerResult"/> candidates per result.</summary>
    Task<IReadOnlyList<long>> SearchApproximateAsync(float[] query, int k, int candidatesPerResult, CancellationToken cancellationToken);
}
