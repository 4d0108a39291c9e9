using System.Globalization;
using MetadataExtractor;
using MetadataExtractor.Formats.Bmp;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Gif;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.WebP;
using MetadataExtractor.Formats.Xmp;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// Reads a <see cref="PhotoMetadata"/> from the head of an image file with MetadataExtractor (Drew Noakes'
/// metadata-extractor, which reads EXIF, XMP and the headers of JPEG, PNG, WebP, GIF, BMP, HEIF/AVIF, TIFF and most
/// raw formats). Each field falls back on its own: a date taken from EXIF DateTimeOriginal (with
/// OffsetTimeOriginal), else the XMP create date the file carries, else the file's modification time. Never throws
/// for what a file holds: corrupt, truncated or hostile metadata leaves the fields it spoils unknown.
/// </summary>
public static partial class PhotoMetadataReader
{
    /// <summary>Bytes of a file's head read for its metadata: EXIF sits in the first 64 KB of a JPEG and near the start of HEIF, TIFF and raw files.</summary>
    public const int HeadBytes = 1 << 20;

    private const int OffsetTimeOriginalTag = 0x9011;
    private const int MinimumYear = 1800;

    private static readonly string[] _xmpCreateDates = ["xmp:CreateDate", "photoshop:DateCreated", "exif:DateTimeOriginal"];

    /// <summary>
    /// The metadata of the file whose first bytes are <paramref name="head"/> (at most <see cref="HeadBytes"/> are
    /// needed), named <paramref name="name"/>, last written at <paramref name="modifiedUtc"/>; null when the bytes
    /// are not an image ClipSearch reads (<see cref="ImageFormats.Sniff(ReadOnlySpan{byte}, string?)"/>).
    /// </summary>
    public static PhotoMetadata? Read(byte[] head, string name, DateTime modifiedUtc)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (ImageFormats.Sniff(head, name) is not { } format)
        {
            return null;
        }

        IReadOnlyList<MetadataExtractor.Directory> directories;
        try
        {
            using var stream = new MemoryStream(head, writable: false);
            directories = ImageMetadataReader.ReadMetadata(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            directories = [];   // unreadable metadata: the file time, no size, no camera
        }

        var ifd0 = directories.OfType<ExifIfd0Directory>().FirstOrDefault();
        var exif = directories.OfType<ExifSubIfdDirectory>().FirstOrDefault();
        var (takenAt, offset, source) = TakenAt(exif, directories.OfType<XmpDirectory>().FirstOrDefault(), modifiedUtc);
        var (width, height) = Size(directories, exif);
        if (Guard(() => ifd0 is not null && ifd0.TryGetInt32(ExifDirectoryBase.TagOrientation, out var o) && ExifOrientation.SwapsAxes((SkiaSharp.SKEncodedOrigin)o)))
        {
            (width, height) = (height, width);
        }

        var (latitude, longitude) = Place(directories.OfType<GpsDirectory>().FirstOrDefault());
        return new PhotoMetadata(takenAt, offset, source, width, height, format,
            Text(ifd0, ExifDirectoryBase.TagMake), Text(ifd0, ExifDirectoryBase.TagModel), latitude, longitude);
    }

    private static (DateTime TakenAt, int? Offset, TakenAtSource Source) TakenAt(ExifSubIfdDirectory? exif, XmpDirectory? xmp, DateTime modifiedUtc)
    {
        if (exif?.GetString(ExifDirectoryBase.TagDateTimeOriginal) is { } original
            && DateTime.TryParseExact(original.Trim().TrimEnd('\0'), "yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var taken)
            && taken.Year >= MinimumYear)
        {
            return (taken, Offset(exif.GetString(OffsetTimeOriginalTag)), TakenAtSource.Exif);
        }

        var properties = Guard(() => xmp?.GetXmpProperties()) ?? new Dictionary<string, string>();
        foreach (var key in _xmpCreateDates)
        {
            if (properties.TryGetValue(key, out var value)
                && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) && created.Year >= MinimumYear)
            {
                // An XMP date with its zone is a wall clock and an offset; one without is a wall clock alone.
                var hasZone = ZoneSuffix().IsMatch(value.Trim());
                return (DateTime.SpecifyKind(created.DateTime, DateTimeKind.Unspecified), hasZone ? (int)created.Offset.TotalMinutes : null, TakenAtSource.Container);
            }
        }

        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(modifiedUtc, DateTimeKind.Utc), TimeZoneInfo.Local);
        var zone = (int)TimeZoneInfo.Local.GetUtcOffset(local).TotalMinutes;
        return (DateTime.SpecifyKind(local.AddTicks(-(local.Ticks % TimeSpan.TicksPerSecond)), DateTimeKind.Unspecified), zone, TakenAtSource.FileTime);
    }

    /// <summary>EXIF's "+02:00" / "-05:30" in minutes, or null.</summary>
    private static int? Offset(string? text)
    {
        text = text?.Trim().TrimEnd('\0');
        if (text is not { Length: 6 } || (text[0] != '+' && text[0] != '-') || text[3] != ':'
            || !int.TryParse(text.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(text.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || hours > 14 || minutes > 59)
        {
            return null;
        }

        return (text[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
    }

    private static (int Width, int Height) Size(IReadOnlyList<MetadataExtractor.Directory> directories, ExifSubIfdDirectory? exif)
    {
        (MetadataExtractor.Directory? Directory, int Width, int Height)[] headers =
        [
            (directories.OfType<JpegDirectory>().FirstOrDefault(), JpegDirectory.TagImageWidth, JpegDirectory.TagImageHeight),
            (directories.OfType<PngDirectory>().FirstOrDefault(), PngDirectory.TagImageWidth, PngDirectory.TagImageHeight),
            (directories.OfType<WebPDirectory>().FirstOrDefault(), WebPDirectory.TagImageWidth, WebPDirectory.TagImageHeight),
            (directories.OfType<GifHeaderDirectory>().FirstOrDefault(), GifHeaderDirectory.TagImageWidth, GifHeaderDirectory.TagImageHeight),
            (directories.OfType<BmpHeaderDirectory>().FirstOrDefault(), BmpHeaderDirectory.TagImageWidth, BmpHeaderDirectory.TagImageHeight),
            (exif, ExifDirectoryBase.TagExifImageWidth, ExifDirectoryBase.TagExifImageHeight),
            (directories.OfType<ExifIfd0Directory>().FirstOrDefault(), ExifDirectoryBase.TagImageWidth, ExifDirectoryBase.TagImageHeight),
        ];
        foreach (var (directory, w, h) in headers)
        {
            if (directory is not null && Guard(() => directory.TryGetInt32(w, out var x) && directory.TryGetInt32(h, out var y) && x > 0 && y > 0))
            {
                directory.TryGetInt32(w, out var width);
                directory.TryGetInt32(h, out var height);
                return (width, height);
            }
        }

        return (0, 0);
    }

    private static (double? Latitude, double? Longitude) Place(GpsDirectory? gps)
    {
        var location = Guard(() => gps?.GetGeoLocation());
        // 0°, 0° is what some cameras write without a fix (a point in the Gulf of Guinea): taken as no place.
        if (location is not { } l || !double.IsFinite(l.Latitude) || !double.IsFinite(l.Longitude) || Math.Abs(l.Latitude) > 90 || Math.Abs(l.Longitude) > 180
            || (l.Latitude == 0 && l.Longitude == 0))
        {
            return (null, null);
        }

        return (l.Latitude, l.Longitude);
    }

    private static string? Text(ExifIfd0Directory? directory, int tag)
    {
        var text = Guard(() => directory?.GetString(tag))?.Replace("\0", "", StringComparison.Ordinal).Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>A field read that a malformed tag may break: its default then.</summary>
    private static T? Guard<T>(Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return default;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"T.*(Z|[+-]\d\d:?\d\d)$")]
    private static partial System.Text.RegularExpressions.Regex ZoneSuffix();
}
