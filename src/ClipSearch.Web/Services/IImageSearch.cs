namespace ClipSearch.Web.Services;

/// <summary>
/// The images that text→image and image→image search look in: the photo library (<see cref="LibraryImageSearch"/>,
/// with <c>--library</c>) or the images uploaded this session (<see cref="SessionImageLibrary"/>). Both honour every
/// member; what only session uploads can do is behind <see cref="Uploads"/>.
/// </summary>
public interface IImageSearch
{
    /// <summary>Images held.</summary>
    int Count { get; }

    /// <summary>Adding and listing uploads, or null when the images are the photo library (folders are added on the Library tab).</summary>
    ISessionUploads? Uploads { get; }

    /// <summary>Images ranked by cosine with <paramref name="query"/> (a normalised embedding from <paramref name="model"/>).</summary>
    Task<ResultPage> SearchAsync(float[] query, LoadedModel model, PageRequest request, CancellationToken cancellationToken);

    /// <summary>The image with <paramref name="id"/>, or null.</summary>
    Task<ImageEntry?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>The stored embedding of <paramref name="id"/> for <paramref name="model"/>, or null.</summary>
    Task<float[]?> EmbeddingAsync(string id, LoadedModel model, CancellationToken cancellationToken);

    /// <summary>
    /// The original bytes of <paramref name="id"/>, or null; dispose it once they are sent (a file read for it holds
    /// its size of a budget until then, so that downloads of large originals cannot fill the memory).
    /// </summary>
    Task<OriginalImage?> OriginalAsync(string id, CancellationToken cancellationToken);

    /// <summary>A JPEG thumbnail of <paramref name="id"/>, or null (made through the decode budget when not cached).</summary>
    Task<byte[]?> ThumbnailBytesAsync(string id, CancellationToken cancellationToken);
}
