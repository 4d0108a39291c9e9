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

    /// <summary>Candidates per result tried in turn (k = 10: 100, 300, then 1,000 candidates re-ranked).</summary>
    public static IReadOnlyList<int> CandidateSteps { get; } = [10, 30, 100];

    /// <summary>
    /// The fewest candidates per result (of <see cref="CandidateSteps"/>) whose recall@10 against exact search
    /// reaches <paramref name="minimumRecall"/>, with the recall measured; 0 candidates when none does.
    /// </summary>
    public static HnswRecall Measure(ExactIndex exact, HnswIndex hnsw, double minimumRecall)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(hnsw);
        var count = exact.Count;
        var samples = new List<(long Id, float[] Vector)>();
        for (var s = 0; s < Math.Min(Samples, count); s++)
        {
            var row = (int)((long)count * s / Math.Min(Samples, count));
            var vector = new float[exact.Dim];
            exact.CopyRow(row, vector);
            samples.Add((exact.IdAt(row), vector));
        }

        // Everything here runs synchronously: the tasks are complete when returned.
        return MeasureAsync(samples, CandidateSteps, count, minimumRecall,
            (query, k, _) => Task.FromResult<IReadOnlyList<long>>([.. exact.Search(query, k).Select(h => h.Id)]),
            (query, k, perResult, _) => Task.FromResult<IReadOnlyList<long>>([.. LibrarySearcher.Rerank(exact, hnsw, query, k, perResult).Select(h => h.ContentId)]),
            CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The measurement itself, for any index: <paramref name="exact"/> and <paramref name="approximate"/> (with a
    /// number of candidates per result) give the ids nearest to a query; each sample leaves itself out.
    /// </summary>
    public static async Task<HnswRecall> MeasureAsync(IReadOnlyList<(long Id, float[] Vector)> samples, IReadOnlyList<int> steps, long count,
        double minimumRecall, Func<float[], int, CancellationToken, Task<IReadOnlyList<long>>> exact,
        Func<float[], int, int, CancellationToken, Task<IReadOnlyList<long>>> approximate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(approximate);
        var truth = new List<HashSet<long>>();
        foreach (var (id, vector) in samples)
        {
            truth.Add([.. (await exact(vector, K + 1, cancellationToken).ConfigureAwait(false)).Where(x => x != id).Take(K)]);
        }

        var recall = 1.0;
        foreach (var perResult in steps)
        {
            var found = 0;
            var wanted = 0;
            for (var s = 0; s < samples.Count; s++)
            {
                var hits = await approximate(samples[s].Vector, K + 1, perResult, cancellationToken).ConfigureAwait(false);
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

    /// <summary>True when a library of <paramref name="count"/> contents should be measured (again).</summary>
    public static bool IsDue(HnswRecall? measured, long count) =>
        count > 0 && (measured is null || count >= measured.AtCount * 5 / 4 || count <= measured.AtCount * 3 / 4);
}

/// <summary>What <see cref="HnswRecallCheck"/> found for a graph.</summary>
/// <param name="CandidatesPerResult">Candidates per result to ask the graph for; 0 when the graph is not used.</param>
/// <param name="Recall">recall@10 against exact search with those candidates (or with the most tried).</param>
/// <param name="AtCount">Vectors in the library when measured (a library that grows by a quarter is measured again).</param>
public sealed record HnswRecall(int CandidatesPerResult, double Recall, long AtCount)
{
    /// <summary>True when searches go through the graph.</summary>
    public bool Usable => CandidatesPerResult > 0;

    /// <summary>One line for people: how the library is searched, and why.</summary>
    public string Describe(int k = HnswRecallCheck.K) => Usable
        ? $"HNSW graph, recall@{k} {Recall:F2} against exact search with {CandidatesPerResult * k} candidates (measured on {Math.Min(HnswRecallCheck.Samples, AtCount)} of the library's images)"
        : $"exact (the HNSW graph found only {Recall:F2} of the true top {k} with the most candidates tried on this library's vectors, so searches scan every vector)";
}
