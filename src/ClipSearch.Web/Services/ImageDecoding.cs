using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>
/// Every decode the server makes goes through here, and so through one <see cref="DecodeBudget"/>
/// (<see cref="ClipSearchOptions.DecodeBudgetMegabytes"/>): model crops for every route, thumbnails, and the
/// library's indexer (<see cref="LoadOptions"/>). Waiting for the budget never blocks a thread.
/// </summary>
public sealed class ImageDecoding
{
    /// <summary>The budget of <paramref name="options"/>.</summary>
    /// <exception cref="ClipSearchException">The budget is too small for one image at the size limit.</exception>
    public ImageDecoding(IOptions<ClipSearchOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Budget = new DecodeBudget(options.Value.CheckedDecodeBudgetBytes());
        LoadOptions = new ImageLoadOptions { Budget = Budget };
        _views = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.MaxThumbnailCacheBytes });
    }

    private readonly MemoryCache _views;

    /// <summary>The server's decode budget.</summary>
    public DecodeBudget Budget { get; }

    /// <summary>How the server loads images (the defaults, with <see cref="Budget"/>).</summary>
    public ImageLoadOptions LoadOptions { get; }

    /// <summary>The crop <paramref name="model"/> sees of an upload.</summary>
    /// <exception cref="ImageLoadException">Not an image, too large, truncated or corrupt.</exception>
    public Task<RgbImage> CropAsync(Upload upload, ClipModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(model);
        return ImageLoader.LoadCropAsync(upload.Bytes, upload.FileName, model.Preprocess, LoadOptions, cancellationToken);
    }

    /// <summary>An upload's width and height, upright (after its EXIF orientation, as its crop), from its header (<see cref="ImageLoader.UprightSize"/>).</summary>
    /// <exception cref="ImageLoadException">Not an image, or over the limits.</exception>
    public (int Width, int Height) UprightSize(Upload upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return ImageLoader.UprightSize(upload.Bytes, upload.FileName, LoadOptions);
    }

    /// <summary>A JPEG thumbnail of bytes held in memory (see <see cref="Thumbnails.MakeAsync(byte[], string, DecodeBudget, CancellationToken)"/>).</summary>
    /// <exception cref="ImageLoadException">Not an image, too large, truncated or corrupt.</exception>
    public Task<byte[]> ThumbnailAsync(byte[] encoded, string name, CancellationToken cancellationToken) =>
        Thumbnails.MakeAsync(encoded, name, Budget, cancellationToken);

    /// <summary>
    /// A JPEG thumbnail of a library image, or null when <paramref name="open"/> finds none: <paramref name="open"/>
    /// reads it with the options and decode cost given, so that its bytes and its decode are taken from the budget
    /// together (see <see cref="Thumbnails.ThumbnailCost"/>), and given back once the thumbnail is made.
    /// </summary>
    /// <exception cref="ImageLoadException">Missing, unreadable, not a regular file, not an image, too large, truncated or corrupt.</exception>
    public async Task<byte[]?> ThumbnailAsync(Func<ImageLoadOptions, DecodeCost, Task<OpenedImage?>> open, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        using var image = await open(Thumbnails.ThumbnailReadOptions(Budget), Thumbnails.ThumbnailCost(name)).ConfigureAwait(false);
        return image is null ? null : await Thumbnails.ThumbnailOfReadAsync(image.Bytes, image.PeakBytes, name, cancellationToken).ConfigureAwait(false);
    }


    /// <summary>
    /// What the web serves for an original that browsers cannot show (HEIC, AVIF in some browsers, TIFF, JPEG XL, a
    /// camera raw file): a JPEG, or a PNG where it has alpha, at most <see cref="Thumbnails.ViewSide"/> pixels on its
    /// longer side (<see cref="Thumbnails.ViewAsync"/>); null when browsers show the original as it is. Views are
    /// cached by the original's content (SHA-256), as thumbnails are, within the thumbnail cache's size.
    /// </summary>
    /// <exception cref="ImageLoadException">The original cannot be decoded.</exception>
    public async Task<byte[]?> ViewAsync(byte[] original, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (ImageFormats.Sniff(original, name) is not { } format || format.BrowsersShow())
        {
            return null;
        }

        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(original));
        if (_views.TryGetValue(key, out byte[]? cached) && cached is not null)
        {
            return cached;
        }

        var view = await Thumbnails.ViewAsync(original, name, Budget, cancellationToken).ConfigureAwait(false);
        _views.Set(key, view, new MemoryCacheEntryOptions { Size = view.Length });
        return view;
    }
}
