namespace ClipSearch.Library.Search;

/// <summary>
/// Measures how well a graph finds a library's nearest neighbours before it is trusted: a sample of the library's
/// own vectors is searched both exactly and through the graph (each leaving itself out), with more candidates per
/// result until recall@10 reaches the target. On data where no setting gets there (vectors spread uniformly in
/// 512 dimensions, where every point is nearly equidistant), the graph is not used and searches stay exact:
/// a fast answer that misses most of the true top 10 is worse than a slower exact one.
/// </summary>
public static class HnswRecallCheck
{
    /// <summary>Vectors of the library used as queries.</summary>
    public const int Samples = 50;

    /// <summary>Results per query whose recall is measured.</summary>
    public const int K = 10;

    /// <summary>Candidates per result the in-memory graph is tried with (k = 10: 100, 300, then 1,000 candidates re-ranked).</summary>
    public static IReadOnlyList<int> GraphCandidateSteps { get; } = [10, 30, 100];

    /// <summary>
    /// The fewest candidates per result (of <see cref="IApproximateSearch.CandidateSteps"/>) whose recall@10 against
    /// exact search reaches <paramref name="minimumRecall"/>, with the recall measured; 0 candidates when none does.
    /// Each of the <see cref="Samples"/> queries is one of the index's own vectors, which leaves itself out.
    /// </summary>
    public static async Task<HnswRecall> MeasureAsync(IApproximateSearch index, double minimumRecall, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        var count = await index.CountAsync(cancellationToken).ConfigureAwait(false);
        var samples = await index.SampleAsync(Samples, cancellationToken).ConfigureAwait(false);
        var truth = new List<HashSet<long>>();
        foreach (var (id, vector) in samples)
        {
            truth.Add([.. (await index.SearchExactAsync(vector, K + 1, cancellationToken).ConfigureAwait(false)).Where(x => x != id).Take(K)]);
        }

        var recall = 1.0;
        foreach (var perResult in index.CandidateSteps)
        {
            var found = 0;
            var wanted = 0;
            for (var s = 0; s < samples.Count; s++)
            {
                var hits = await index.SearchApproximateAsync(samples[s].Vector, K + 1, perResult, cancellationToken).ConfigureAwait(false);
                found += hits.Where(x => x != samples[s].Id).Take(K).Count(truth[s].Contains);
                wanted += truth[s].Count;
            }

            recall = wanted == 0 ? 1 : found / (double)wanted;
            if (recall >= minimumRecall)
            {
                return new HnswRecall(perResult, recall, count);
            }
        }

        return new HnswRecall(0, recall, count);
    }

    /// <summary>
    /// <see cref="MeasureAsync"/> for an in-memory graph over <paramref name="exact"/>'s vectors (synchronous: both
    /// searches run in memory).
    /// </summary>
    public static HnswRecall Measure(ExactIndex exact, HnswIndex hnsw, double minimumRecall) =>
        MeasureAsync(new GraphSearch(exact, hnsw), minimumRecall).GetAwaiter().GetResult();   // every task is complete when returned

    /// <summary>True when a library of <paramref name="count"/> contents should be measured (again).</summary>
    public static bool IsDue(HnswRecall? measured, long count) =>
        count > 0 && (measured is null || count >= measured.AtCount * 5 / 4 || count <= measured.AtCount * 3 / 4);

    /// <summary>An in-memory graph beside its exact index.</summary>
    private sealed class GraphSearch(ExactIndex exact, HnswIndex hnsw) : IApproximateSearch
    {
        public IReadOnlyList<int> CandidateSteps => GraphCandidateSteps;

        public Task<long> CountAsync(CancellationToken cancellationToken) => Task.FromResult((long)exact.Count);

        public Task<IReadOnlyList<(long Id, float[] Vector)>> SampleAsync(int count, CancellationToken cancellationToken)
        {
            var taken = Math.Min(count, exact.Count);
            var samples = new List<(long Id, float[] Vector)>(taken);
            for (var s = 0; s < taken; s++)
            {
                var row = (int)((long)exact.Count * s / taken);
                var vector = new float[exact.Dim];
                exact.CopyRow(row, vector);
                samples.Add((exact.IdAt(row), vector));
            }

            return Task.FromResult<IReadOnlyList<(long Id, float[] Vector)>>(samples);
        }

        public Task<IReadOnlyList<long>> SearchExactAsync(float[] query, int k, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>([.. exact.Search(query, k).Select(h => h.Id)]);

        public Task<IReadOnlyList<long>> SearchApproximateAsync(float[] query, int k, int candidatesPerResult, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<long>>([.. InMemoryVectorIndex.Rerank(exact, hnsw, query, k, candidatesPerResult).Select(h => h.ContentId)]);
    }
}
