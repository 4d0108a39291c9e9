namespace ClipSearch.Web.Services;

/// <summary>An image's encoded bytes, their type, and what they hold of a budget until disposed.</summary>
/// <param name="Bytes">The encoded image.</param>
/// <param name="ContentType">Its MIME type, sniffed from the bytes.</param>
/// <param name="Hold">Given back on dispose (null when the bytes are held anyway: an upload).</param>
public sealed record OriginalImage(byte[] Bytes, string ContentType, IDisposable? Hold = null) : IDisposable
{
    /// <summary>Gives back what the bytes hold.</summary>
    public void Dispose() => Hold?.Dispose();
}
