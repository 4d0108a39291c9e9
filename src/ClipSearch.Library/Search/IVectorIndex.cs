using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>
/// How a library's vectors are searched, chosen once where the library is opened (<see cref="ImageLibrary.OpenAsync"/>):
/// in memory (<see cref="InMemoryVectorIndex"/>: exact SIMD scans, an HNSW graph with exact re-ranking above a size
/// threshold) for SQLite, or by the database server (<see cref="PgvectorIndex"/>) for PostgreSQL. Thread-safe.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>The <paramref name="k"/> contents nearest to <paramref name="query"/> (a unit vector) by cosine, best first.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, CancellationToken cancellationToken = default);

    /// <summary>
    /// The <paramref name="k"/> contents nearest to <paramref name="query"/> among those with an image that passes
    /// <paramref name="filter"/>: exactly what an exact search over just those contents finds.
    /// </summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(float[] query, int k, LibraryFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Brings what the index holds up to date with the store (nothing to do for an index the store keeps itself).</summary>
    Task RefreshAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// After an index run over a library of <paramref name="contents"/> contents: keeps the approximate index up to
    /// date (saved) and measures its recall again when due (<see cref="HnswRecallCheck.IsDue"/>).
    /// </summary>
    Task UpdateAfterIndexingAsync(long contents, CancellationToken cancellationToken = default);

    /// <summary>How searches find their candidates now, and why (data: each front end words it).</summary>
    Task<SearchMethod> DescribeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="scan"/> over every vector in memory (near-duplicates compare each with its neighbours):
    /// an in-memory index lends itself, brought up to date; another loads the vectors into a temporary one.
    /// </summary>
    Task<T> ScanInMemoryAsync<T>(Func<InMemoryVectorIndex, T> scan, CancellationToken cancellationToken = default);
}
