namespace ClipSearch.Library.Search;

/// <summary>A group of near-identical images.</summary>
/// <param name="Images">Every indexed image in the group (with its id, size and metadata), by path in ordinal order, then by id.</param>
/// <param name="MinScore">The lowest cosine that joined two members (1 for byte-identical copies).</param>
public sealed record DuplicateGroup(IReadOnlyList<Storage.IndexedImage> Images, float MinScore)
{
    /// <summary>
    /// The least cosine between near-duplicates when none is given: <c>clipsearch duplicates</c>, the web's
    /// Duplicates view and <c>GET /api/library/duplicates</c> all start from it.
    /// </summary>
    public const float DefaultThreshold = 0.95f;

    /// <summary>The members' paths, in <see cref="Images"/>' order.</summary>
    public IEnumerable<string> Paths => Images.Select(i => i.Path);
}

/// <summary>
/// Near-duplicates: each content's nearest neighbours (through the searcher, so HNSW for large libraries) at or
/// above a cosine threshold are joined into groups (union-find). Byte-identical copies share one content and are
/// one group member each by path.
/// </summary>
internal static class DuplicateFinder
{
    private const int Neighbours = 16;

    public static List<(List<long> Contents, float MinScore)> Find(InMemoryVectorIndex searcher, float threshold, CancellationToken cancellationToken)
    {
        var exact = searcher.Exact;
        if (exact is null || exact.Count == 0)
        {
            return [];
        }

        var parent = new int[exact.Count];
        var minScore = new float[exact.Count];
        for (var i = 0; i < parent.Length; i++)
        {
            parent[i] = i;
            minScore[i] = 1;
        }

        int Root(int i)
        {
            while (parent[i] != i)
            {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }

            return i;
        }

        var query = new float[exact.Dim];
        for (var row = 0; row < exact.Count; row++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            exact.CopyRow(row, query);
            foreach (var hit in searcher.Search(query, Neighbours))
            {
                var other = exact.RowOf(hit.ContentId);
                if (other < 0 || other == row || hit.Score < threshold)
                {
                    continue;
                }

                var (a, b) = (Root(row), Root(other));
                var joined = Math.Min(Math.Min(minScore[a], minScore[b]), hit.Score);
                if (a != b)
                {
                    parent[a] = b;
                }

                minScore[b] = joined;
            }
        }

        return [.. Enumerable.Range(0, exact.Count).GroupBy(Root)
            .Where(g => g.Count() > 1)
            .Select(g => (g.Select(exact.IdAt).ToList(), minScore[g.Key]))];
    }
}
