namespace ClipSearch.Library.Search;

/// <summary>How a library's vectors are searched (<see cref="IVectorIndex"/>).</summary>
public sealed record VectorIndexOptions
{
    /// <summary>Libraries with at least this many contents get an HNSW graph; smaller ones are searched exactly.</summary>
    public const int DefaultHnswThreshold = 50_000;

    /// <summary>Keep vectors as float16 (half the memory; scores differ by about 1e-3).</summary>
    public bool HalfPrecision { get; init; }

    /// <summary>See <see cref="DefaultHnswThreshold"/>; 0 turns HNSW off (in-memory index).</summary>
    public int HnswThreshold { get; init; } = DefaultHnswThreshold;

    /// <summary>Where the in-memory index saves its graph, or null: beside a SQLite library's file (memory only elsewhere).</summary>
    public string? HnswPath { get; init; }

    /// <summary>
    /// A filtered search whose filter lets fewer images than this through (estimated) scans them exactly; one that
    /// lets more through asks the approximate index for more candidates and keeps those that pass
    /// (docs/library.md, "Filtered search", says why the line is here). 0: always the index where it is trusted.
    /// </summary>
    public int FilteredExactBelow { get; init; } = DefaultFilteredExactBelow;

    /// <summary>See <see cref="FilteredExactBelow"/>: measured at 100k images (bench/README.md, filtered).</summary>
    public const int DefaultFilteredExactBelow = 10_000;

    /// <summary>
    /// recall@10 against exact search an approximate index must reach on the library's own vectors to be used
    /// (<see cref="HnswRecallCheck"/>); below it, searches stay exact.
    /// </summary>
    public double MinimumRecall { get; init; } = 0.95;
}
