namespace ClipSearch.Library.Storage;

/// <summary>A file as the walker found it.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Size">Bytes.</param>
/// <param name="ModifiedTicks">Last write time, UTC ticks.</param>
/// <param name="Problem">
/// Why it cannot be indexed, when the walk already knows (a FIFO, a device, a dangling or looping symbolic link, a
/// file over the size limit, a folder that could not be listed): recorded as the file's error without opening it.
/// Null for a regular file.
/// </param>
public sealed record ScannedFile(string Path, long Size, long ModifiedTicks, string? Problem = null)
{
    /// <summary>
    /// The size recorded for a folder's problem (<see cref="Folder"/>): no file has it, so a library tells its
    /// folders from its files (counted apart in <see cref="LibraryStats"/> and <see cref="Indexing.IndexResult"/>).
    /// </summary>
    public const long FolderSize = -1;

    /// <summary>True for a folder the walk could not list or would not follow, recorded with its <see cref="Problem"/>.</summary>
    public bool IsFolder => Size == FolderSize;

    /// <summary>A folder below a root that could not be listed or is not followed, and why.</summary>
    public static ScannedFile Folder(string path, string problem) => new(path, FolderSize, 0, problem);
}

/// <summary>A file as the library recorded it.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Size">Bytes when indexed.</param>
/// <param name="ModifiedTicks">Last write time when indexed, UTC ticks.</param>
/// <param name="ContentId">Its content (embedding), or null when it failed.</param>
/// <param name="Error">Why it could not be indexed, or null.</param>
/// <param name="MetadataVersion">
/// The <see cref="Core.Imaging.PhotoMetadata.CurrentVersion"/> its metadata was read with; 0 when it was not read
/// (a file indexed before the library recorded metadata): the next run reads it, without re-embedding.
/// </param>
public sealed record StoredFile(string Path, long Size, long ModifiedTicks, long? ContentId, string? Error, int MetadataVersion = 0);

/// <summary>The outcome of indexing one file, to commit.</summary>
/// <param name="File">The file.</param>
/// <param name="Hash">SHA-256 of its bytes (hex), or null when it could not be read.</param>
/// <param name="Embedding">A new embedding for <paramref name="Hash"/>, or null when the content is known or the file failed.</param>
/// <param name="Error">Why it could not be indexed, or null.</param>
/// <param name="Metadata">What the file is beyond its pixels (date taken, size, format, camera, place), or null when it could not be read.</param>
public sealed record IndexedFile(ScannedFile File, string? Hash, float[]? Embedding, string? Error, Core.Imaging.PhotoMetadata? Metadata = null);

/// <summary>A file that could not be indexed.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Error">The reason, for the user.</param>
public sealed record FileError(string Path, string Error);

/// <summary>Embeddings with their content ids, contiguous: row i is <c>Vectors[i*Dim .. (i+1)*Dim]</c>.</summary>
/// <param name="Ids">Content ids, ascending.</param>
/// <param name="Vectors">Row-major float32.</param>
/// <param name="Dim">Length of one embedding.</param>
public sealed record StoredVectors(long[] Ids, float[] Vectors, int Dim)
{
    /// <summary>Number of rows.</summary>
    public int Count => Ids.Length;
}

/// <summary>
/// An indexed image as the library records it. <paramref name="Id"/> is the store's own row id of the file (SQLite's
/// <c>files.id</c>, PostgreSQL's <c>clipsearch_files.id</c>): an integer in both stores, written once when the path is
/// first indexed and kept when the file is indexed again (a changed file keeps its id; a moved or renamed one is a
/// new path and gets a new id). So it survives a restart and names one file, not its content (copies of one content
/// each have their own id). After an image leaves the library, SQLite may hand its id to a later file.
/// </summary>
/// <param name="Id">The image's id.</param>
/// <param name="Path">Absolute path.</param>
/// <param name="ContentId">Its content (embedding).</param>
public sealed record IndexedImage(long Id, string Path, long ContentId)
{
    /// <summary>The file's size in bytes when it was indexed.</summary>
    public long Bytes { get; init; }

    /// <summary>Its date taken, size, format, camera and place, or null when the library has not read them yet.</summary>
    public Core.Imaging.PhotoMetadata? Metadata { get; init; }
}

/// <summary>A search result before paths are attached.</summary>
/// <param name="ContentId">The content.</param>
/// <param name="Score">Cosine similarity to the query.</param>
public readonly record struct VectorHit(long ContentId, float Score);

/// <summary>What a library holds.</summary>
/// <param name="Location">Where it is.</param>
/// <param name="Folders">Its folders.</param>
/// <param name="Files">Image files recorded (folders that could not be listed are not counted: see <see cref="FolderErrors"/>).</param>
/// <param name="Indexed">Files with an embedding.</param>
/// <param name="Failed">Image files that could not be indexed.</param>
/// <param name="Contents">Distinct contents (embeddings); fewer than <paramref name="Indexed"/> when files are duplicates.</param>
/// <param name="Model">The model's identity, or null.</param>
/// <param name="StorageBytes">Size on disk (database file + WAL, or the tables' size in PostgreSQL).</param>
public sealed record LibraryStats(string Location, IReadOnlyList<string> Folders, long Files, long Indexed, long Failed,
    long Contents, string? Model, long StorageBytes)
{
    /// <summary>
    /// Folders below the library's folders that could not be listed (or were not followed), among the errors with
    /// the reason; what was indexed under one that could not be listed is kept until it can be listed again.
    /// </summary>
    public long FolderErrors { get; init; }

    /// <summary>
    /// What the last walk of each of the library's folders passed over (files not named as images, by extension, and
    /// camera raw files with a JPEG or HEIC of the same name beside them), added up; a folder below another of the
    /// library's folders is counted once, by the outer one's walk.
    /// </summary>
    public Indexing.SkippedFiles Skipped { get; init; } = Indexing.SkippedFiles.None;
}

/// <summary>What a <see cref="LibraryFilter"/> reads of an indexed image, as the stores keep it (see <see cref="MetadataColumns"/>).</summary>
/// <param name="ContentId">Its content.</param>
/// <param name="Path">Its absolute path.</param>
/// <param name="TakenAt">The stored <c>taken_at</c> (wall-clock seconds), or null when not read or unknown.</param>
/// <param name="Format">The stored format name, or null when not read.</param>
public sealed record FilterFields(long ContentId, string Path, long? TakenAt, string? Format);
