namespace ClipSearch.Hub;

/// <summary>
/// A file of a Hub repository as the Hub describes it. LFS files (the ONNX weights) carry their sha256 in
/// <c>X-Linked-Etag</c> and their size in <c>X-Linked-Size</c>; small files carry a git ETag that is not checked.
/// </summary>
/// <param name="Path">Path in the repository, '/'-separated.</param>
/// <param name="Size">Size in bytes, or null when the Hub did not say.</param>
/// <param name="Sha256">Lower-case hex sha256 of an LFS file, or null.</param>
/// <param name="Commit">The commit the revision resolved to (<c>X-Repo-Commit</c>), or null.</param>
public sealed record HubFile(string Path, long? Size, string? Sha256, string? Commit);

/// <summary>One entry of the Hub's tree API (<c>GET /api/models/{repo}/tree/{revision}/{folder}</c>).</summary>
/// <param name="Type">"file" or "directory".</param>
/// <param name="Path">Path in the repository.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Lfs">LFS pointer (sha256 and size) of large files, or null.</param>
public sealed record HubTreeEntry(string Type, string Path, long Size, HubLfsInfo? Lfs);

/// <summary>The LFS part of a <see cref="HubTreeEntry"/>.</summary>
/// <param name="Oid">sha256 of the content.</param>
/// <param name="Size">Size of the content.</param>
public sealed record HubLfsInfo(string Oid, long Size);
