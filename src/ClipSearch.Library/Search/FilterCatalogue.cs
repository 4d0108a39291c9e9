using ClipSearch.Core.Imaging;
using ClipSearch.Library.Storage;

namespace ClipSearch.Library.Search;

/// <summary>
/// What a <see cref="LibraryFilter"/> reads of every indexed image (content, path, date taken, format), held in
/// memory beside the vectors so that a filtered search asks no SQL for the images that pass: files sorted by path
/// (a folder is a range of them), the dated ones by date (a date range is a range), and by format. It decides as
/// the stores' SQL does (<see cref="FilterSql"/>, <see cref="LibraryFilter.Passes"/>). Built whole from a snapshot
/// of the store (<see cref="ILibraryStore.GetFilterFieldsAsync"/>) and replaced whole when the store's files version
/// moves; immutable, so searches read it without a lock.
/// </summary>
public sealed class FilterCatalogue
{
    private readonly long[] _content;        // by file, files in ordinal path order
    private readonly string[] _path;
    private readonly long[] _taken;          // long.MinValue: no date
    private readonly string?[] _format;
    private readonly int[] _byTaken;         // dated files, by date
    private readonly long[] _takenSorted;    // their dates, for binary search
    private readonly Dictionary<string, int[]> _byFormat;
    private readonly long[] _contentSorted;  // the files' contents, ascending …
    private readonly int[] _byContent;       // … and the files they belong to

    private FilterCatalogue(long version, IReadOnlyList<FilterFields> files)
    {
        Version = version;
        var order = files.Select((f, i) => (f.Path, i)).ToArray();
        Array.Sort(order, (a, b) => string.CompareOrdinal(a.Path, b.Path));
        var n = order.Length;
        _content = new long[n];
        _path = new string[n];
        _taken = new long[n];
        _format = new string?[n];
        for (var i = 0; i < n; i++)
        {
            var f = files[order[i].i];
            (_content[i], _path[i], _taken[i], _format[i]) = (f.ContentId, f.Path, f.TakenAt ?? long.MinValue, f.Format);
        }

        _byTaken = [.. Enumerable.Range(0, n).Where(i => _taken[i] != long.MinValue).OrderBy(i => _taken[i])];
        _takenSorted = [.. _byTaken.Select(i => _taken[i])];
        _byFormat = Enumerable.Range(0, n).Where(i => _format[i] is not null).GroupBy(i => _format[i]!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _byContent = [.. Enumerable.Range(0, n).OrderBy(i => _content[i])];
        _contentSorted = [.. _byContent.Select(i => _content[i])];
    }

    /// <summary>The store's files version it was read at (<see cref="ILibraryStore.GetFilesVersionAsync"/>).</summary>
    public long Version { get; }

    /// <summary>Indexed images in it.</summary>
    public int Files => _path.Length;

    /// <summary>A catalogue of <paramref name="files"/>, read at <paramref name="version"/>.</summary>
    public static FilterCatalogue Build(long version, IReadOnlyList<FilterFields> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new FilterCatalogue(version, files);
    }

    /// <summary>
    /// Where the images that pass <paramref name="filter"/> are: the smallest of its parts' ranges (folders, dates,
    /// formats; an upper bound on those that pass) and an estimate of the fraction that passes (the parts' fractions
    /// multiplied, as if independent).
    /// </summary>
    public FilterSelection Select(LibraryFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var n = Files;
        var sources = new List<int[]>();
        var fraction = 1.0;
        if (filter.Folders.Count > 0)
        {
            // Ranges of the path order, merged where folders overlap (a folder and one below it).
            var ranges = filter.Folders.Select(Prefix).Select(p => (Lo: LowerBound(p), Hi: LowerBound(p[..^1] + "0"))).Where(r => r.Hi > r.Lo).OrderBy(r => r.Lo).ToList();
            var merged = new List<(int Lo, int Hi)>();
            foreach (var r in ranges)
            {
                if (merged.Count > 0 && r.Lo <= merged[^1].Hi)
                {
                    merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
                }
                else
                {
                    merged.Add(r);
                }
            }

            sources.Add([.. merged.SelectMany(r => Enumerable.Range(r.Lo, r.Hi - r.Lo))]);
        }

        if (filter.From is not null || filter.To is not null)
        {
            var lo = filter.From is { } from ? LowerBound(_takenSorted, MetadataColumns.Seconds(from)) : 0;
            var hi = filter.To is { } to ? LowerBound(_takenSorted, MetadataColumns.Seconds(to)) : _takenSorted.Length;
            sources.Add(hi > lo ? _byTaken[lo..hi] : []);
        }

        if (filter.Formats is { Count: > 0 } formats)
        {
            sources.Add([.. formats.Select(f => f.Name()).Distinct(StringComparer.Ordinal).SelectMany(f => _byFormat.GetValueOrDefault(f, []))]);
        }

        foreach (var source in sources)
        {
            fraction *= n == 0 ? 0 : (double)source.Length / n;
        }

        var smallest = sources.Count == 0 ? null : sources.MinBy(s => s.Length);
        return new FilterSelection(this, new Compiled(filter), smallest, fraction);
    }

    /// <summary>Whether an image of content <paramref name="contentId"/> passes the selection's filter.</summary>
    internal bool Passes(long contentId, Compiled filter)
    {
        var at = LowerBound(_contentSorted, contentId);
        for (var i = at; i < _contentSorted.Length && _contentSorted[i] == contentId; i++)
        {
            if (FilePasses(_byContent[i], filter))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The contents of the files in <paramref name="source"/> (all when null) that pass, in no order, perhaps repeated.</summary>
    internal List<long> PassingContents(int[]? source, Compiled filter)
    {
        var result = new List<long>();
        if (source is null)
        {
            for (var i = 0; i < Files; i++)
            {
                if (FilePasses(i, filter))
                {
                    result.Add(_content[i]);
                }
            }

            return result;
        }

        foreach (var i in source)
        {
            if (FilePasses(i, filter))
            {
                result.Add(_content[i]);
            }
        }

        return result;
    }

    private bool FilePasses(int i, Compiled filter)
    {
        if (filter.Prefixes.Length > 0)
        {
            var path = _path[i];
            var inFolder = false;
            foreach (var prefix in filter.Prefixes)
            {
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    inFolder = true;
                    break;
                }
            }

            if (!inFolder)
            {
                return false;
            }
        }

        var taken = _taken[i];
        if ((filter.From is { } from && (taken == long.MinValue || taken < from)) || (filter.To is { } to && (taken == long.MinValue || taken >= to)))
        {
            return false;
        }

        return filter.Formats is null || (_format[i] is { } format && filter.Formats.Contains(format));
    }

    private static string Prefix(string folder) => folder.EndsWith('/') ? folder : folder + "/";

    private int LowerBound(string value)
    {
        var (lo, hi) = (0, _path.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(_path[mid], value) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static int LowerBound(long[] sorted, long value)
    {
        var (lo, hi) = (0, sorted.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>A filter in the catalogue's terms: folder prefixes, stored seconds, format names.</summary>
    internal sealed class Compiled
    {
        public Compiled(LibraryFilter filter)
        {
            Prefixes = [.. filter.Folders.Select(Prefix)];
            From = filter.From is { } from ? MetadataColumns.Seconds(from) : null;
            To = filter.To is { } to ? MetadataColumns.Seconds(to) : null;
            Formats = filter.Formats is { Count: > 0 } formats ? formats.Select(f => f.Name()).ToHashSet(StringComparer.Ordinal) : null;
        }

        public string[] Prefixes { get; }

        public long? From { get; }

        public long? To { get; }

        public HashSet<string>? Formats { get; }
    }
}

/// <summary>
/// The images a filter lets through, as a <see cref="FilterCatalogue"/> found them: <see cref="Bound"/> (at most this
/// many pass) and <see cref="Fraction"/> (about this share of the library passes).
/// </summary>
public sealed class FilterSelection
{
    private readonly FilterCatalogue _catalogue;
    private readonly FilterCatalogue.Compiled _filter;
    private readonly int[]? _source;

    internal FilterSelection(FilterCatalogue catalogue, FilterCatalogue.Compiled filter, int[]? source, double fraction)
    {
        (_catalogue, _filter, _source, Fraction) = (catalogue, filter, source, fraction);
    }

    /// <summary>At most this many images pass (the smallest part's range; every image for no part).</summary>
    public int Bound => _source?.Length ?? _catalogue.Files;

    /// <summary>The estimated share of images that pass (exact for a filter of one part).</summary>
    public double Fraction { get; }

    /// <summary>Whether an image of content <paramref name="contentId"/> passes.</summary>
    public bool Passes(long contentId) => _catalogue.Passes(contentId, _filter);

    /// <summary>The contents with an image that passes, ascending, each once (the work is <see cref="Bound"/> images' checks).</summary>
    public long[] PassingContents()
    {
        var contents = _catalogue.PassingContents(_source, _filter);
        contents.Sort();
        var unique = new List<long>(contents.Count);
        foreach (var c in contents)
        {
            if (unique.Count == 0 || unique[^1] != c)
            {
                unique.Add(c);
            }
        }

        return [.. unique];
    }
}
