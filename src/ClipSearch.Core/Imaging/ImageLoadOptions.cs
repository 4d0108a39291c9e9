namespace ClipSearch.Core.Imaging;

/// <summary>How <see cref="ImageLoader"/> decodes an image: size limit, exactness, EXIF orientation.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>The default options: a 100 megapixel limit, the fast JPEG path on, EXIF orientation applied.</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>
    /// The largest image (width × height, read from the header before any pixel is decoded) that is accepted.
    /// Larger images are refused with an <see cref="ImageLoadException"/>.
    /// </summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>
    /// True: always decode at full size, so that the result equals openai/CLIP's Pillow preprocessing exactly.
    /// False (the default): large JPEGs are decoded at a reduced DCT scale (1/2, 1/4 or 1/8, keeping the shorter
    /// side at least twice the resize target) before the same resize, which is several times faster and lands
    /// within about one 8-bit level of the exact result.
    /// </summary>
    public bool Exact { get; init; }

    /// <summary>
    /// Whether the EXIF orientation (all eight values) is applied before resizing, as Pillow's
    /// <c>ImageOps.exif_transpose</c> does. openai/CLIP itself does not apply it.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// True (the default): the image is converted to RGB right after decoding, before the resize (alpha dropped
    /// without compositing, palettes and grey expanded), which is how the reference crops were made: the same as
    /// <c>preprocess(Image.open(p).convert("RGB"))</c>, CLIP's own notebook, and Hugging Face's CLIPImageProcessor.
    /// False: the resize runs in the file's own Pillow mode, as <c>preprocess(Image.open(p))</c> does: RGBA and LA
    /// premultiplied by alpha around the resize, palette and 1-bit images resized with nearest neighbour.
    /// The two differ only for images with alpha, palettes or 1-bit pixels.
    /// </summary>
    public bool ConvertToRgbBeforeResize { get; init; } = true;

    /// <summary>How long reading an image file may go without data before it is given up (see <see cref="IO.RegularFile"/>).</summary>
    public TimeSpan ReadTimeout { get; init; } = IO.RegularFile.DefaultTimeout;

    /// <summary>
    /// The decode budget the decoded pixels are taken from (see <see cref="DecodeBudget"/>); null (the default):
    /// <see cref="DecodeBudget.Shared"/>, the process's. A server passes its own, sized by its settings, to every
    /// route and to its indexer, so that one bound covers all of them.
    /// </summary>
    public DecodeBudget? Budget { get; init; }
}
