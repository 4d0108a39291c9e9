namespace ClipSearch.Core.Imaging;

/// <summary>Where <see cref="PhotoMetadata.TakenAt"/> came from, best first.</summary>
public enum TakenAtSource
{
    /// <summary>EXIF DateTimeOriginal (with OffsetTimeOriginal when the camera wrote it).</summary>
    Exif,

    /// <summary>The container's own creation date (for example an ISO BMFF <c>mvhd</c>/XMP create date), when there is no EXIF date.</summary>
    Container,

    /// <summary>The file's modification time, when the image says nothing.</summary>
    FileTime,
}

/// <summary>
/// What a photo is beyond its pixels, as the library records it for filters, the timeline and the viewer.
/// </summary>
/// <param name="TakenAt">
/// When it was taken, as the clock where it was taken showed it (<see cref="DateTimeKind.Unspecified"/>, whole
/// seconds): EXIF dates are wall-clock times, and "photos from 4 July" means that wall clock whatever the zone.
/// A time known in UTC (a container date, a file time) is shown in <paramref name="TakenOffsetMinutes"/>' zone.
/// </param>
/// <param name="TakenOffsetMinutes">The taking clock's offset from UTC in minutes, when known (EXIF OffsetTimeOriginal, or the zone a UTC time was shown in); else null.</param>
/// <param name="TakenAtSource">Which of the three sources <paramref name="TakenAt"/> came from.</param>
/// <param name="Width">Width in pixels, upright (after the EXIF orientation), or 0 when unknown.</param>
/// <param name="Height">Height in pixels, upright, or 0 when unknown.</param>
/// <param name="Format">The format, told by the content (<see cref="ImageFormats.Sniff(ReadOnlySpan{byte}, string?)"/>).</param>
/// <param name="CameraMake">EXIF Make, trimmed, or null.</param>
/// <param name="CameraModel">EXIF Model, trimmed, or null.</param>
/// <param name="Latitude">GPS latitude in degrees (north positive), or null.</param>
/// <param name="Longitude">GPS longitude in degrees (east positive), or null.</param>
public sealed record PhotoMetadata(
    DateTime TakenAt,
    int? TakenOffsetMinutes,
    TakenAtSource TakenAtSource,
    int Width,
    int Height,
    ImageFormat Format,
    string? CameraMake,
    string? CameraModel,
    double? Latitude,
    double? Longitude)
{
    /// <summary>
    /// The version of what is read: a library re-reads (without re-embedding) the metadata of files recorded with
    /// an older one, so that an improved reader reaches existing libraries on their next run.
    /// </summary>
    public const int CurrentVersion = 1;

    /// <summary>
    /// When it was taken in ISO 8601, as every front end gives it: the wall clock where it was taken, with its offset
    /// when known (<c>2024-07-14T18:30:05+02:00</c>), else without (<c>2024-07-14T18:30:05</c>).
    /// </summary>
    public string TakenAtIso8601() => TakenOffsetMinutes is { } offset
        ? new DateTimeOffset(TakenAt, TimeSpan.FromMinutes(offset)).ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture)
        : TakenAt.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>When it was taken in UTC, when the offset is known; else null.</summary>
    public DateTimeOffset? TakenAtUtc => TakenOffsetMinutes is { } offset
        ? new DateTimeOffset(TakenAt, TimeSpan.FromMinutes(offset)).ToUniversalTime()
        : null;
}
