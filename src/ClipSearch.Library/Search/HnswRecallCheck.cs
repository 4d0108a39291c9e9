namespace ClipSearch.Library.Search;

/// <summary>
/// Measures how well a graph finds a library's nearest neighbours before it is trusted, with two kinds of query:
/// a sample of the library's own vectors (image queries, each leaving itself out) and the library's text queries
/// (<see cref="RecallTextQueries"/>: CLIP's text embeddings lie apart from its image embeddings, the modality gap,
/// so a graph built from images behaves differently when entered from text; RoarGraph, VLDB 2024). Each is
/// searched both exactly and through the graph, with more candidates per result until recall@10 of both kinds
/// reaches the target. On data where no setting gets there (vectors spread uniformly in 512 dimensions, where
/// every point is nearly equidistant), the graph is not used and searches stay exact: a fast answer that misses
/// most of the true top 10 is worse than a slower exact one. Without text queries the graph is not trusted
/// either (<see cref="HnswRecall.TextUnmeasured"/>).
/// </summary>
public static class HnswRecallCheck
{
    /// <summary>Vectors of the library used as image queries.</summary>
    public const int Samples = 50;

    /// <summary>Results per query whose recall is measured.</summary>
    public const int K = 10;

    /// <summary>
    /// Candidates per result the in-memory graph is tried with (k = 10: 100, 300, 1,000, then 3,000 candidates
    /// re-ranked; the graph's search breadth rises with them): the last step is for text queries, which need more.
    /// </summary>
    public static IReadOnlyList<int> GraphCandidateSteps { get; } = [10, 30, 100, 300];

    /// <summary>
    /// The fewest candidates per result (of <see cref="IApproximateSearch.CandidateSteps"/>) whose recall@10 against
    /// exact search reaches <paramref name="minimumRecall"/> for both the image and the text queries, with both
    /// recalls measured; 0 candidates when no step does. Each of the <see cref="Samples"/> image queries is one of
    /// the index's own vectors, which leaves itself out; <paramref name="textQueries"/> (null: none, the text recall
    /// is unmeasured and the result not <see cref="HnswRecall.Usable"/>) are searched as they are.
    /// </summary>
    public static async Task<HnswRecall> MeasureAsync(IApproximateSearch index, double minimumRecall, IReadOnlyList<float[]>? textQueries = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        var count = await index.CountAsync(cancellationToken).ConfigureAwait(false);
        var samples = await index.SampleAsync(Samples, cancellationToken).ConfigureAwait(false);
        var truth = new List<HashSet<long>>();
        foreach (var (id, vector) in samples)
        {
            truth.Add([.. (await index.SearchExactAsync(vector, K + 1, cancellationToken).ConfigureAwait(false)).Where(x => x != id).Take(K)]);
        }

        var texts = textQueries is { Count: > 0 } ? textQueries : null;
        var textTruth = new List<HashSet<long>>();
        foreach (var query in texts ?? [])
        {
            textTruth.Add([.. await index.SearchExactAsync(query, K, cancellationToken).ConfigureAwait(false)]);
        }

        var recall = 1.0;
        double? textRecall = null;
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
            if (texts is null)
            {
                if (recall >= minimumRecall)
                {
                    return new HnswRecall(perResult, recall, count);
                }

                continue;
            }

            var textFound = 0;
            var textWanted = 0;
            for (var t = 0; t < texts.Count; t++)
            {
                var hits = await index.SearchApproximateAsync(texts[t], K, perResult, cancellationToken).ConfigureAwait(false);
                textFound += hits.Take(K).Count(textTruth[t].Contains);
                textWanted += textTruth[t].Count;
            }

            textRecall = textWanted == 0 ? 1 : textFound / (double)textWanted;
            if (recall >= minimumRecall && textRecall >= minimumRecall)
            {
                return new HnswRecall(perResult, recall, count, textRecall, texts.Count);
            }
        }

        return new HnswRecall(0, recall, count, textRecall, texts?.Count ?? 0);
    }

    /// <summary>
    /// <see cref="MeasureAsync"/> for an in-memory graph over <paramref name="exact"/>'s vectors (synchronous: both
    /// searches run in memory).
    /// </summary>
    public static HnswRecall Measure(ExactIndex exact, HnswIndex hnsw, double minimumRecall, IReadOnlyList<float[]>? textQueries = null) =>
        MeasureAsync(new GraphSearch(exact, hnsw), minimumRecall, textQueries).GetAwaiter().GetResult();   // every task is complete when returned

    /// <summary>
    /// True when a library of <paramref name="count"/> contents should be measured (again): never measured, grown
    /// or shrunk by a quarter since, or measured without text queries that are now <paramref name="textQueriesAvailable"/>.
    /// </summary>
    public static bool IsDue(HnswRecall? measured, long count, bool textQueriesAvailable = false) =>
        count > 0 && (measured is null || count >= measured.AtCount * 5 / 4 || count <= measured.AtCount * 3 / 4
            || (textQueriesAvailable && measured.TextRecall is null));

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
