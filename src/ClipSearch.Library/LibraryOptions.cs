using ClipSearch.Library.Search;

namespace ClipSearch.Library;

/// <summary>How a library is opened.</summary>
public sealed record LibraryOptions
{
    /// <summary>How its vectors are searched (float16, HNSW threshold, minimum recall).</summary>
    public VectorIndexOptions Index { get; init; } = new();
}
