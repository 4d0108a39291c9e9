using ClipSearch.Core.Imaging;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library;

/// <summary>
/// An indexed image's bytes, read by <see cref="ImageLibrary.OpenImageAsync"/>, and what they hold of a decode
/// budget until disposed.
/// </summary>
public sealed class OpenedImage : IDisposable
{
    private readonly BudgetedFile _file;

    internal OpenedImage(IndexedImage image, string contentType, BudgetedFile file)
    {
        Image = image;
        ContentType = contentType;
        _file = file;
    }

    /// <summary>The image (its id and path).</summary>
    public IndexedImage Image { get; }

    /// <summary>The MIME type its bytes hold (<c>application/octet-stream</c> when they are no image format known).</summary>
    public string ContentType { get; }

    /// <summary>The file's bytes.</summary>
    public byte[] Bytes => _file.Bytes;

    /// <summary>What decoding it holds at its peak besides <see cref="Bytes"/>, as the decode cost given to the read said (0 without one).</summary>
    public long PeakBytes => _file.PeakBytes;

    /// <summary>Gives back what the bytes hold of the budget.</summary>
    public void Dispose() => _file.Dispose();
}
