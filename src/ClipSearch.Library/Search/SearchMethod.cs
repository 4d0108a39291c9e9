namespace ClipSearch.Library.Search;

/// <summary>How a library's searches find their candidates (<see cref="SearchMethod.Kind"/>).</summary>
public enum SearchMethodKind
{
    /// <summary>Every vector is scanned (see <see cref="SearchMethod.ExactBecause"/>).</summary>
    Exact,

    /// <summary>The in-memory HNSW graph finds candidates that are re-ranked exactly.</summary>
    Hnsw,

    /// <summary>pgvector's HNSW index, searched by the database server.</summary>
    Pgvector,
}

/// <summary>Why a library is searched exactly.</summary>
public enum ExactSearchReason
{
    /// <summary>The library is smaller than <see cref="SearchMethod.HnswThreshold"/> (or the graph is turned off: a threshold of 0).</summary>
    BelowThreshold,

    /// <summary>The library is large enough for a graph, which is built at the next index run or search.</summary>
    GraphNotBuilt,

    /// <summary>
    /// The approximate index did not reach the minimum recall with the most candidates tried, for image queries
    /// (<see cref="SearchMethod.Recall"/>) or text queries (<see cref="SearchMethod.TextRecall"/>).
    /// </summary>
    LowRecall,

    /// <summary>
    /// Image queries reached the minimum recall (<see cref="SearchMethod.Recall"/>) but the library has no text
    /// queries to measure with (<see cref="RecallTextQueries"/>: an index run with the text encoder loaded embeds them).
    /// </summary>
    TextRecallUnmeasured,
}

/// <summary>
/// How searches find their results in a library, and why, as data: each front end words it in its own language
/// (the command line in English, the web in its UI language).
/// </summary>
/// <param name="Kind">Exact scan, in-memory HNSW graph, or pgvector.</param>
public sealed record SearchMethod(SearchMethodKind Kind)
{
    /// <summary>Why searches are exact (null unless <see cref="Kind"/> is <see cref="SearchMethodKind.Exact"/>).</summary>
    public ExactSearchReason? ExactBecause { get; init; }

    /// <summary>The measured recall@<see cref="K"/> of image queries against exact search (with the most candidates tried when too low), or null before it is measured.</summary>
    public double? Recall { get; init; }

    /// <summary>The measured recall@<see cref="K"/> of text queries against exact search, with the same candidates as <see cref="Recall"/>; null when unmeasured.</summary>
    public double? TextRecall { get; init; }

    /// <summary>How many text queries <see cref="TextRecall"/> was measured with, or null when unmeasured.</summary>
    public int? TextQueries { get; init; }

    /// <summary>Candidates asked of the approximate index for <see cref="K"/> results (re-ranked, or pgvector's <c>ef_search</c>), or null for an exact scan.</summary>
    public int? Candidates { get; init; }

    /// <summary>How many of the library's images the recall was measured on, or null before it is measured.</summary>
    public int? MeasuredOn { get; init; }

    /// <summary>Results per query that recall and candidates are counted for.</summary>
    public int K { get; init; } = HnswRecallCheck.K;

    /// <summary>
    /// pgvector only: true when its HNSW index serves filtered searches that let many images through (iterative index
    /// scans, pgvector 0.8 on), false when the server's pgvector is older and every filtered search scans exactly; null
    /// for the in-memory index.
    /// </summary>
    public bool? IterativeScans { get; init; }

    /// <summary>The in-memory index builds a graph from this many contents on (0: never); 0 for pgvector.</summary>
    public int HnswThreshold { get; init; }

    /// <summary>What a measured recall says: the approximate index is used with its candidates, or searches stay exact.</summary>
    internal static SearchMethod Measured(SearchMethodKind approximate, HnswRecall recall, int k = HnswRecallCheck.K)
    {
        var method = recall.Usable
            ? new SearchMethod(approximate)
            {
                Candidates = recall.CandidatesPerResult * k,
                MeasuredOn = (int)Math.Min(HnswRecallCheck.Samples, recall.AtCount),
            }
            : new SearchMethod(SearchMethodKind.Exact)
            {
                ExactBecause = recall.TextUnmeasured ? ExactSearchReason.TextRecallUnmeasured : ExactSearchReason.LowRecall,
            };
        return method with
        {
            Recall = recall.Recall,
            TextRecall = recall.TextRecall,
            TextQueries = recall.TextRecall is null ? null : recall.TextQueries,
            K = k,
        };
    }
}
