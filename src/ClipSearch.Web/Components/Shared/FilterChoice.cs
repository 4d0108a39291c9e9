using System.Globalization;
using ClipSearch.Library;

namespace ClipSearch.Web.Components.Shared;

/// <summary>
/// What the filter bar (<see cref="FilterBar"/>) holds: a folder, a date range, types and an order, as the user picked
/// them; read into a <see cref="LibraryFilter"/> by the library's own parsing, and carried in a page's query string
/// (the names <c>/api/search</c> and the browse routes take).
/// </summary>
public sealed class FilterChoice
{
    /// <summary>A folder of the library's tree, or null (all).</summary>
    public string? Folder { get; set; }

    /// <summary>First day (<c>YYYY-MM-DD</c>), or empty.</summary>
    public string From { get; set; } = "";

    /// <summary>Last day, or empty.</summary>
    public string To { get; set; } = "";

    /// <summary>The types picked (format names); none: all.</summary>
    public HashSet<string> Types { get; } = new(StringComparer.Ordinal);

    /// <summary>The order of search results.</summary>
    public LibrarySort Sort { get; set; }

    /// <summary>True when nothing narrows the images.</summary>
    public bool IsEmpty => string.IsNullOrEmpty(Folder) && string.IsNullOrWhiteSpace(From) && string.IsNullOrWhiteSpace(To) && Types.Count == 0;

    /// <summary>The filter.</summary>
    /// <exception cref="Core.ClipSearchException">A date is not one, or the range ends before it starts.</exception>
    public LibraryFilter ToFilter() =>
        LibraryFilter.Parse(string.IsNullOrEmpty(Folder) ? [] : [Folder], From, To, Types.Count == 0 ? null : Types);

    /// <summary>The choice as a query string (without <c>?</c>; empty when nothing is picked).</summary>
    public string ToQuery()
    {
        var parts = new List<string>();
        Add("folder", Folder);
        Add("from", From);
        Add("to", To);
        Add("types", string.Join(',', Types.Order(StringComparer.Ordinal)));
        Add("sort", Sort == LibrarySort.Date ? "date" : null);
        return string.Join('&', parts);

        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
    }

    /// <summary>A choice from a query string's values (unknown types and orders are kept out).</summary>
    public static FilterChoice FromQuery(string? folder, string? from, string? to, string? types, string? sort)
    {
        var choice = new FilterChoice { Folder = string.IsNullOrWhiteSpace(folder) ? null : folder, From = from ?? "", To = to ?? "" };
        foreach (var type in (types ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Core.Imaging.ImageFormats.FromName(type.ToLowerInvariant()) is { } format)
            {
                choice.Types.Add(Core.Imaging.ImageFormats.Name(format));
            }
        }

        choice.Sort = string.Equals(sort, "date", StringComparison.OrdinalIgnoreCase) ? LibrarySort.Date : LibrarySort.Relevance;
        return choice;
    }

    /// <summary>The date <paramref name="metadata"/> shows on a result (<c>2024-07-04</c>), or empty.</summary>
    public static string DateOf(Core.Imaging.PhotoMetadata? metadata) =>
        metadata?.TakenAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";
}
