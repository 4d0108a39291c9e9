namespace ClipSearch.Library.Indexing;

/// <summary>What an indexing run is doing.</summary>
public enum IndexPhase
{
    /// <summary>Listing the folders.</summary>
    Scanning,

    /// <summary>Hashing and embedding new and changed files.</summary>
    Indexing,

    /// <summary>Dropping deleted files and bringing the search index up to date.</summary>
    Finishing,

    /// <summary>Done.</summary>
    Done,
}

/// <summary>Where an indexing run stands (reported after each committed batch).</summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Done">New or changed files handled so far.</param>
/// <param name="Total">New or changed files found.</param>
/// <param name="Embedded">Files embedded by the model.</param>
/// <param name="Reused">Files whose content was already known (moved, renamed, duplicates): no inference.</param>
/// <param name="Failed">Files that could not be indexed.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record IndexProgress(IndexPhase Phase, int Done, int Total, int Embedded, int Reused, int Failed, TimeSpan Elapsed)
{
    /// <summary>Files handled per second in the indexing phase.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Estimated time to finish, or null before the rate is known.</summary>
    public TimeSpan? Eta => ImagesPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / ImagesPerSecond) : null;
}

/// <summary>What an indexing run did.</summary>
/// <param name="Scanned">Image files found in the folders (folders that could not be listed are not counted: see <see cref="FolderErrors"/>).</param>
/// <param name="Unchanged">Files already indexed with the same size and modification time (not read).</param>
/// <param name="Embedded">Files embedded by the model.</param>
/// <param name="Reused">Files linked to content already in the library (moved, renamed, duplicates).</param>
/// <param name="Failed">Image files that could not be indexed in this run (see the library's errors).</param>
/// <param name="Removed">Files no longer present, dropped from the library.</param>
/// <param name="SkippedByOthers">Files another indexer had claimed (PostgreSQL, several machines).</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record IndexResult(int Scanned, int Unchanged, int Embedded, int Reused, int Failed, int Removed, int SkippedByOthers, TimeSpan Elapsed)
{
    /// <summary>
    /// Folders below the indexed folders that this run could not list (permissions, an I/O error, too deep) or did
    /// not follow (outside <see cref="IndexerOptions.ConfineTo"/>), each among the library's errors with why. What
    /// was indexed below a folder that could not be listed is kept, not removed.
    /// </summary>
    public int FolderErrors { get; init; }

    /// <summary>
    /// What the walks passed over: files not named as images, by extension, and camera raw files with a JPEG or HEIC
    /// of the same name beside them (indexed instead). A folder below another of the run is counted once.
    /// </summary>
    public SkippedFiles Skipped { get; init; } = SkippedFiles.None;
}
