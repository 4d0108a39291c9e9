namespace ClipSearch.Web.Services;

/// <summary>An image that search can return.</summary>
/// <param name="Id">Opaque id: the only way to reach the image over HTTP (the photo library's own id, or an upload's GUID).</param>
/// <param name="FileName">Its file or upload name (display only).</param>
public sealed record ImageEntry(string Id, string FileName);
