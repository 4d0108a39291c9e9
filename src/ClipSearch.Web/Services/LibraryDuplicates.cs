using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Library.Search;

namespace ClipSearch.Web.Services;

/// <summary>
/// Near-duplicates of the photo library for the Duplicates view and <c>GET /api/library/duplicates</c>, found by
/// <see cref="Library.ImageLibrary.FindDuplicatesAsync"/>. A search over the whole library: one at a time for the
/// whole server (others wait, or give up when their request ends), each stopped when its request ends.
/// </summary>
public sealed class LibraryDuplicates(LibraryHost host) : IDisposable
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>
    /// The threshold in <paramref name="text"/> (a query string's <c>threshold</c>, invariant culture), or
    /// <see cref="DuplicateGroup.DefaultThreshold"/> when there is none; its range is the library's to check.
    /// </summary>
    /// <exception cref="ClipSearchException">Not a number.</exception>
    public static float ParseThreshold(string? text) => string.IsNullOrWhiteSpace(text)
        ? DuplicateGroup.DefaultThreshold
        : float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold)
            ? threshold
            : throw new ClipSearchException(ErrorCodes.DuplicatesBadThreshold,
                $"The similarity threshold must be a number in (0, 1], such as {DuplicateGroup.DefaultThreshold.ToString(CultureInfo.InvariantCulture)} (got '{Shorten(text)}').", [Shorten(text)]);

    /// <summary>The groups at <paramref name="threshold"/> (see <see cref="Library.ImageLibrary.FindDuplicatesAsync"/>).</summary>
    /// <exception cref="ClipSearchException">No library is open, or <paramref name="threshold"/> is not in (0, 1].</exception>
    public async Task<IReadOnlyList<DuplicateGroup>> FindAsync(float threshold, CancellationToken cancellationToken)
    {
        var library = host.Required;
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await library.FindDuplicatesAsync(threshold, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _one.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _one.Dispose();

    private static string Shorten(string text) => text.Length > 32 ? text[..32] + "…" : text;
}
