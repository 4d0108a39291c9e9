using System.Data.Common;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Library.Storage;

/// <summary>
/// How both stores keep a file's <see cref="PhotoMetadata"/>: one column per field of the files table, named alike
/// in SQLite and PostgreSQL. <c>taken_at</c> is the wall-clock time where the photo was taken, in seconds since
/// 1970-01-01 as if that clock were UTC (so that it sorts and compares as the calendar date people filter by);
/// <c>taken_offset</c> is that clock's offset from UTC in minutes when known; <c>metadata_version</c> 0 means
/// not read yet (a file indexed before metadata was recorded, or one whose bytes could not be read).
/// </summary>
internal static class MetadataColumns
{
    /// <summary>The columns, in the order <see cref="Values"/> gives and <see cref="Read"/> reads them.</summary>
    public static readonly string[] Names =
        ["taken_at", "taken_offset", "taken_source", "width", "height", "format", "camera_make", "camera_model", "latitude", "longitude", "metadata_version"];

    /// <summary>The column list for a SELECT or INSERT.</summary>
    public static readonly string List = string.Join(", ", Names);

    /// <summary>The seconds <c>taken_at</c> stores for <paramref name="wallClock"/>.</summary>
    public static long Seconds(DateTime wallClock) => (long)Math.Floor((DateTime.SpecifyKind(wallClock, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds);

    /// <summary>The wall-clock time of stored <paramref name="seconds"/>.</summary>
    public static DateTime WallClock(long seconds) => DateTime.SpecifyKind(DateTime.UnixEpoch.AddSeconds(seconds), DateTimeKind.Unspecified);

    /// <summary>The stored name of <paramref name="source"/>.</summary>
    public static string SourceName(TakenAtSource source) => source switch
    {
        TakenAtSource.Exif => "exif",
        TakenAtSource.Container => "container",
        TakenAtSource.FileTime => "file",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, null),
    };

    /// <summary>The values of <see cref="Names"/> for <paramref name="metadata"/> (nulls as <see cref="DBNull"/>; all null but the version 0 for none).</summary>
    public static object[] Values(PhotoMetadata? metadata) => metadata is null
        ? [DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, 0]
        :
        [
            Seconds(metadata.TakenAt),
            (object?)metadata.TakenOffsetMinutes ?? DBNull.Value,
            SourceName(metadata.TakenAtSource),
            metadata.Width,
            metadata.Height,
            metadata.Format.Name(),
            (object?)metadata.CameraMake ?? DBNull.Value,
            (object?)metadata.CameraModel ?? DBNull.Value,
            (object?)metadata.Latitude ?? DBNull.Value,
            (object?)metadata.Longitude ?? DBNull.Value,
            PhotoMetadata.CurrentVersion,
        ];

    /// <summary>The metadata in <paramref name="reader"/>'s columns from <paramref name="first"/> on (<see cref="Names"/>' order), or null when none was read.</summary>
    public static PhotoMetadata? Read(DbDataReader reader, int first)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.IsDBNull(first) || reader.IsDBNull(first + 5) || Convert.ToInt32(reader.GetValue(first + 10), System.Globalization.CultureInfo.InvariantCulture) == 0
            || ImageFormats.FromName(reader.GetString(first + 5)) is not { } format)
        {
            return null;
        }

        return new PhotoMetadata(
            WallClock(Convert.ToInt64(reader.GetValue(first), System.Globalization.CultureInfo.InvariantCulture)),
            reader.IsDBNull(first + 1) ? null : Convert.ToInt32(reader.GetValue(first + 1), System.Globalization.CultureInfo.InvariantCulture),
            reader.GetString(first + 2) switch { "exif" => TakenAtSource.Exif, "container" => TakenAtSource.Container, _ => TakenAtSource.FileTime },
            Convert.ToInt32(reader.GetValue(first + 3), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt32(reader.GetValue(first + 4), System.Globalization.CultureInfo.InvariantCulture),
            format,
            reader.IsDBNull(first + 6) ? null : reader.GetString(first + 6),
            reader.IsDBNull(first + 7) ? null : reader.GetString(first + 7),
            reader.IsDBNull(first + 8) ? null : reader.GetDouble(first + 8),
            reader.IsDBNull(first + 9) ? null : reader.GetDouble(first + 9));
    }

    /// <summary>The version recorded in column <paramref name="ordinal"/>.</summary>
    public static int Version(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? 0 : Convert.ToInt32(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
}
