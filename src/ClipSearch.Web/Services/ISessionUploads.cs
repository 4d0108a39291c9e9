namespace ClipSearch.Web.Services;

/// <summary>Images uploaded while the server runs (no <c>--library</c>): <see cref="SessionImageLibrary"/>.</summary>
public interface ISessionUploads
{
    /// <summary>Adds images (already checked to be images) and embeds them with <paramref name="model"/>.</summary>
    Task<IReadOnlyList<ImageEntry>> AddAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken);

    /// <summary>The most recently added images, newest first.</summary>
    IReadOnlyList<ImageEntry> Recent(int count);
}
