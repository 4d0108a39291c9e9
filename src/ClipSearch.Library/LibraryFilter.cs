using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Library;

/// <summary>
/// What part of a library a search or a browse looks at: folders (each with its subfolders), a range of dates taken
/// (wall clock, see <see cref="PhotoMetadata.TakenAt"/>) and formats. Empty: the whole library. An image whose
/// metadata has not been read yet passes folder filters only.
/// </summary>
public sealed record LibraryFilter
{
    /// <summary>The whole library.</summary>
    public static readonly LibraryFilter None = new();

    /// <summary>Absolute folders: an image passes when it is in one of them or below.</summary>
    public IReadOnlyList<string> Folders { get; init; } = [];

    /// <summary>Taken at or after this wall-clock time, or null.</summary>
    public DateTime? From { get; init; }

    /// <summary>Taken before this wall-clock time (exclusive), or null.</summary>
    public DateTime? To { get; init; }

    /// <summary>Only these formats, or null (all).</summary>
    public IReadOnlySet<ImageFormat>? Formats { get; init; }

    /// <summary>True when it lets every image through.</summary>
    public bool IsEmpty => Folders.Count == 0 && From is null && To is null && (Formats is null || Formats.Count == 0);

    /// <summary>Whether an image at <paramref name="path"/> with <paramref name="metadata"/> passes (as the stores' SQL decides).</summary>
    public bool Passes(string path, PhotoMetadata? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Folders.Count > 0 && !Folders.Any(f => path.StartsWith(f.EndsWith('/') ? f : f + "/", StringComparison.Ordinal)))
        {
            return false;
        }

        if (From is null && To is null && (Formats is null || Formats.Count == 0))
        {
            return true;
        }

        return metadata is not null
            && (From is not { } from || metadata.TakenAt >= from)
            && (To is not { } to || metadata.TakenAt < to)
            && (Formats is not { Count: > 0 } formats || formats.Contains(metadata.Format));
    }

    /// <summary>
    /// A filter from words people type: folders (made absolute), dates <c>YYYY-MM-DD</c>, <c>YYYY-MM</c> or <c>YYYY</c>
    /// (<paramref name="from"/> the start of its day, month or year; <paramref name="to"/> its end, so both ends are
    /// included) and format names (<see cref="ParseFormats"/>).
    /// </summary>
    /// <exception cref="ClipSearchException">A date or a format is not one, or the range ends before it starts.</exception>
    public static LibraryFilter Parse(IEnumerable<string>? folders, string? from, string? to, IEnumerable<string>? formats)
    {
        var start = string.IsNullOrWhiteSpace(from) ? (DateTime?)null : ParseDate(from).Start;
        var end = string.IsNullOrWhiteSpace(to) ? (DateTime?)null : ParseDate(to).End;
        if (start >= end)
        {
            throw new ClipSearchException(ErrorCodes.FilterBadRange, $"The date range ends before it starts (from {from} to {to}).", [from!, to!]);
        }

        var types = formats?.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return new LibraryFilter
        {
            Folders = [.. (folders ?? []).Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).Distinct(StringComparer.Ordinal)],
            From = start,
            To = end,
            Formats = types is { Count: > 0 } ? ParseFormats(types) : null,
        };
    }

    /// <summary>The day, month or year <paramref name="text"/> names (<c>YYYY-MM-DD</c>, <c>YYYY-MM</c>, <c>YYYY</c>), as [start, end).</summary>
    /// <exception cref="ClipSearchException">It is none of them.</exception>
    public static (DateTime Start, DateTime End) ParseDate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (DateTime.TryParseExact(t, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return (day, day.AddDays(1));
        }

        if (DateTime.TryParseExact(t, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            return (month, month.AddMonths(1));
        }

        if (DateTime.TryParseExact(t, "yyyy", CultureInfo.InvariantCulture, DateTimeStyles.None, out var year))
        {
            return (year, year.AddYears(1));
        }

        throw new ClipSearchException(ErrorCodes.FilterBadDate, $"'{text}' is not a date: give YYYY-MM-DD, YYYY-MM or YYYY.", [text]);
    }

    /// <summary>Formats by their names (<see cref="ImageFormats.Name"/>; also jpg, heif, tif, dng), case-insensitive.</summary>
    /// <exception cref="ClipSearchException">A name is none of them (the message lists them).</exception>
    public static IReadOnlySet<ImageFormat> ParseFormats(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var result = new HashSet<ImageFormat>();
        foreach (var name in names)
        {
            var alias = name.Trim().ToLowerInvariant() switch
            {
                "jpg" => "jpeg",
                "heif" => "heic",
                "tif" => "tiff",
                "jpegxl" or "jpeg-xl" => "jxl",
                "dng" => "raw",
                var n => n,
            };
            var all = string.Join(", ", Enum.GetValues<ImageFormat>().Select(f => f.Name()));
            result.Add(ImageFormats.FromName(alias) ?? throw new ClipSearchException(ErrorCodes.FilterBadType, $"'{name}' is not an image type; the types: {all}.", [name, all]));
        }

        return result;
    }
}

/// <summary>How results are ordered.</summary>
public enum LibrarySort
{
    /// <summary>Best match first.</summary>
    Relevance,

    /// <summary>Newest first (date taken); images without a date last.</summary>
    Date,
}

/// <summary>The words for <see cref="LibrarySort"/>.</summary>
public static class LibrarySorts
{
    /// <summary>The order <paramref name="text"/> names: <c>relevance</c> (also empty or null) or <c>date</c>, case-insensitive.</summary>
    /// <exception cref="ClipSearchException">It names neither.</exception>
    public static LibrarySort Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "relevance" => LibrarySort.Relevance,
        "date" => LibrarySort.Date,
        _ => throw new ClipSearchException(ErrorCodes.SortUnknown, $"'{text}' is not an order: give relevance or date.", [text]),
    };
}

/// <summary>A page of the library's images, newest first.</summary>
/// <param name="Images">The page.</param>
/// <param name="Total">Images that pass the filter, in all.</param>
public sealed record LibraryPage(IReadOnlyList<Storage.IndexedImage> Images, long Total);

/// <summary>How many images were taken in a month.</summary>
/// <param name="Year">The year.</param>
/// <param name="Month">The month, 1–12.</param>
/// <param name="Images">Images taken in it.</param>
public sealed record MonthCount(int Year, int Month, long Images);

/// <summary>A folder of the library or below one, with the images in it and below it.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="Images">Images in it and its subfolders.</param>
/// <param name="IsLibraryFolder">True for one of the library's own folders (a root of the tree).</param>
public sealed record FolderCount(string Path, long Images, bool IsLibraryFolder);
