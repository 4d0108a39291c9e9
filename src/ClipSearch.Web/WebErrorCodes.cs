namespace ClipSearch.Web;

/// <summary>
/// The codes of the input mistakes the web itself refuses (<see cref="Core.ClipSearchException.Code"/>), beside the
/// lower layers' <see cref="Core.ErrorCodes"/>; each with the values it carries, in that order. The UI words every
/// code of both in English and Chinese (<c>error.CODE</c> in the UI's strings).
/// </summary>
public static class WebErrorCodes
{
    /// <summary>No model is loaded; no values.</summary>
    public const string NoModel = "no-model";

    /// <summary>A request with no image; no values.</summary>
    public const string NoImage = "no-image";

    /// <summary>An image over the size limit. Values: its file name, its size, the limit (both as "N MB").</summary>
    public const string TooLarge = "too-large";

    /// <summary>An empty upload. Values: its file name.</summary>
    public const string EmptyFile = "empty-file";

    /// <summary>Too many images in one request. Values: how many, the most.</summary>
    public const string TooManyImages = "too-many-images";

    /// <summary>A request with no text; no values.</summary>
    public const string NoText = "no-text";

    /// <summary>Too many texts in one request. Values: how many, the most.</summary>
    public const string TooManyTexts = "too-many-texts";

    /// <summary>Too many labels in one request. Values: how many, the most.</summary>
    public const string TooManyLabels = "too-many-labels";

    /// <summary>A classification with no labels and no preset; no values.</summary>
    public const string NoLabels = "no-labels";

    /// <summary>A classification asked for fewer than one label. Values: the number asked for.</summary>
    public const string BadTopK = "bad-k";

    /// <summary>A text over the length limit. Values: its length, the limit (characters).</summary>
    public const string TextTooLong = "text-too-long";

    /// <summary>A filter or the date order on a server that searches the session's uploads, not a photo library; no values.</summary>
    public const string FilterNeedsLibrary = "filter-needs-library";

    /// <summary>A filter's folder that is not an absolute path. Values: the folder given.</summary>
    public const string FilterRelativeFolder = "filter-relative-folder";

    /// <summary>A browse page size out of range. Values: the size asked for, the most.</summary>
    public const string BadLimit = "bad-limit";
}
