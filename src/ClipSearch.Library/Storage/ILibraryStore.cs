using ClipSearch.Core.Model;

namespace ClipSearch.Library.Storage;

/// <summary>
/// Where a library keeps its folders, files and embeddings: SQLite (one file, the default) or PostgreSQL + pgvector.
/// Every write that the indexer makes is one transaction, so that a crash loses at most the batch in flight.
/// Embeddings belong to contents (a SHA-256 of the file), not to paths: a moved, renamed or duplicated file
/// links to the content it has, without inference.
/// </summary>
public interface ILibraryStore : IAsyncDisposable
{
    /// <summary>Where the library is, for messages (a file path, or host/database).</summary>
    string Description { get; }

    /// <summary>
    /// Null when the library can be written; else why not (it was opened read-only: searches, stats and errors
    /// work, writes are refused by <see cref="ImageLibrary"/> with this reason).
    /// </summary>
    string? ReadOnlyReason { get; }

    /// <summary>The model whose embeddings the library holds, or null while it holds none.</summary>
    Task<ModelIdentity?> GetModelAsync(CancellationToken cancellationToken = default);

    /// <summary>Records <paramref name="model"/>; when another was recorded, drops every embedding first (re-embed).</summary>
    Task SetModelAsync(ModelIdentity model, CancellationToken cancellationToken = default);

    /// <summary>A stored setting (for example the model files' signature), or null.</summary>
    Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores a setting.</summary>
    Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default);

    /// <summary>Adds folders to the library (indexing them is the indexer's job).</summary>
    Task AddFoldersAsync(IEnumerable<string> folders, CancellationToken cancellationToken = default);

    /// <summary>The folders of the library.</summary>
    Task<IReadOnlyList<string>> GetFoldersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a folder, every file under it and what its last walk passed over (one transaction), unless an indexing run holds the library
    /// (<see cref="HoldForIndexingAsync"/>, in this process or any other): then nothing changes and the answer is false.
    /// </summary>
    Task<bool> TryRemoveFolderAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks the library as being indexed until the result is disposed, visibly to every process that opens it
    /// (several runs may hold it at once; <see cref="TryRemoveFolderAsync"/> waits for none of them). A process that
    /// dies lets go at once.
    /// </summary>
    Task<IAsyncDisposable> HoldForIndexingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records what the last walk of <paramref name="folder"/> (one of the library's folders) passed over, in place of
    /// what the walk before it recorded (one transaction). Removing the folder drops it.
    /// </summary>
    Task SetSkippedAsync(string folder, Indexing.SkippedFiles skipped, CancellationToken cancellationToken = default);

    /// <summary>What the last walk of each folder passed over, by folder (folders never walked are absent).</summary>
    Task<IReadOnlyDictionary<string, Indexing.SkippedFiles>> GetSkippedAsync(CancellationToken cancellationToken = default);

    /// <summary>Files recorded under <paramref name="folder"/> (the folder itself and every subfolder).</summary>
    Task<IReadOnlyList<StoredFile>> GetFilesUnderAsync(string folder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims <paramref name="files"/> for this indexer: returns those that no other indexer holds and that are not
    /// already recorded with the same size and modification time. Claims end when the files are committed.
    /// </summary>
    Task<IReadOnlyList<ScannedFile>> ClaimAsync(IReadOnlyList<ScannedFile> files, CancellationToken cancellationToken = default);

    /// <summary>Content ids of the hashes already in the library.</summary>
    Task<IReadOnlyDictionary<string, long>> FindContentsAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default);

    /// <summary>Records a batch of indexed files in one transaction (their contents first, where new).</summary>
    Task CommitAsync(IReadOnlyList<IndexedFile> batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the metadata of files already recorded (one transaction), leaving their embeddings alone: how a
    /// library indexed before it recorded metadata fills it in. Paths not recorded are passed over.
    /// </summary>
    Task SetMetadataAsync(IReadOnlyList<(string Path, Core.Imaging.PhotoMetadata Metadata)> files, CancellationToken cancellationToken = default);

    /// <summary>Forgets files (one transaction) and the contents no file has any more.</summary>
    Task DeleteFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default);

    /// <summary>Embeddings of contents with an id above <paramref name="afterId"/>, in id order.</summary>
    Task<StoredVectors> LoadVectorsAsync(long afterId, CancellationToken cancellationToken = default);

    /// <summary>A number that changes whenever contents are deleted (an in-memory copy must then be reloaded).</summary>
    Task<long> GetGenerationAsync(CancellationToken cancellationToken = default);

    /// <summary>The images of each content (ordinal order of their paths).</summary>
    Task<IReadOnlyDictionary<long, IReadOnlyList<IndexedImage>>> GetImagesOfAsync(IReadOnlyCollection<long> contentIds, CancellationToken cancellationToken = default);

    /// <summary>The indexed image with <paramref name="id"/> (see <see cref="IndexedImage"/>), or null.</summary>
    Task<IndexedImage?> GetImageAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Indexed images with an id above <paramref name="afterId"/>, in id order, at most <paramref name="limit"/> (a page).</summary>
    Task<IReadOnlyList<IndexedImage>> ListImagesAsync(long afterId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Contents with at least one indexed image that passes <paramref name="filter"/>.</summary>
    Task<IReadOnlySet<long>> GetContentIdsAsync(LibraryFilter filter, CancellationToken cancellationToken = default);

    /// <summary>
    /// A number that changes whenever a file is recorded, changed, moved or forgotten (in this process or another),
    /// or null when the store keeps none: an in-memory copy of <see cref="GetFilterFieldsAsync"/> is then never trusted.
    /// </summary>
    Task<long?> GetFilesVersionAsync(CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);

    /// <summary>
    /// What filters read of every indexed image (<see cref="FilterFields"/>), with the <see cref="GetFilesVersionAsync"/>
    /// it was read at (one snapshot: a change after it raises the version).
    /// </summary>
    Task<(long? Version, IReadOnlyList<FilterFields> Files)> GetFilterFieldsAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("This store keeps no files version, so its filter fields are not read into memory.");

    /// <summary>Indexed images that pass <paramref name="filter"/>, newest first (undated last, then by id), a page of them.</summary>
    Task<LibraryPage> BrowseAsync(LibraryFilter filter, int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>The stored <c>taken_at</c> (see <see cref="MetadataColumns"/>) of every dated indexed image that passes <paramref name="filter"/>.</summary>
    Task<IReadOnlyList<long>> GetTakenAtAsync(LibraryFilter filter, CancellationToken cancellationToken = default);

    /// <summary>The paths of every indexed image.</summary>
    Task<IReadOnlyList<string>> GetImagePathsAsync(CancellationToken cancellationToken = default);

    /// <summary>The stored embedding of a content, or null.</summary>
    Task<float[]?> GetEmbeddingAsync(long contentId, CancellationToken cancellationToken = default);

    /// <summary>Files that could not be indexed, with the reason.</summary>
    Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default);

    /// <summary>Counts and sizes.</summary>
    Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default);
}
