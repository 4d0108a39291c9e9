namespace ClipSearch.Core.Imaging;

/// <summary>
/// The file name extensions taken as images by folder walks (case-insensitive). A file is decoded by what its bytes
/// are (<see cref="ImageFormats.Sniff(ReadOnlySpan{byte})"/>), never by its name: the name only decides whether a walk
/// looks at it at all, and, for a TIFF container, whether it is a camera's raw file (see <see cref="ImageFormats"/>).
/// </summary>
public static class ImageFileTypes
{
    /// <summary>Extensions of the formats decoded as they are: JPEG, PNG, WebP, GIF, BMP, HEIC/HEIF, AVIF, TIFF, JPEG XL.</summary>
    public static readonly IReadOnlySet<string> PictureExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp",
        ".heic", ".heif", ".hif", ".avif", ".tif", ".tiff", ".jxl",
    };

    /// <summary>
    /// Extensions of camera raw files (read through their embedded preview, else developed): those libraw reads,
    /// at least DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2 and PEF.
    /// </summary>
    public static readonly IReadOnlySet<string> CameraRawExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".3fr", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".iiq", ".kdc", ".mef", ".mos", ".mrw",
        ".nef", ".nrw", ".orf", ".pef", ".raf", ".rw2", ".rwl", ".sr2", ".srf", ".srw", ".x3f",
    };

    /// <summary>
    /// Extensions of the processed pictures that stand for a raw file of the same name in the same folder: a camera
    /// that saves RAW + JPEG (or HEIC) writes both, and the processed one is indexed in place of the raw.
    /// </summary>
    public static readonly IReadOnlySet<string> RawSiblingExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".heic", ".heif", ".hif",
    };

    /// <summary>Every extension a folder walk takes: <see cref="PictureExtensions"/> and <see cref="CameraRawExtensions"/>.</summary>
    public static readonly IReadOnlySet<string> AllExtensions = new HashSet<string>(
        PictureExtensions.Concat(CameraRawExtensions), StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a walk takes the file at <paramref name="path"/> as an image (by its extension).</summary>
    public static bool IsImageName(string path) => AllExtensions.Contains(Path.GetExtension(path));

    /// <summary>Whether the file at <paramref name="path"/> is named as a camera raw file.</summary>
    public static bool IsCameraRawName(string path) => CameraRawExtensions.Contains(Path.GetExtension(path));
}
