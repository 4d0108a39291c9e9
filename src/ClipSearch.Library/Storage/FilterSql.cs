using ClipSearch.Core.Imaging;

namespace ClipSearch.Library.Storage;

/// <summary>
/// A <see cref="LibraryFilter"/> as a SQL condition on the files table, with named parameters (<c>@f0</c>, …), for
/// both stores: what <see cref="LibraryFilter.Passes"/> decides in memory. A folder is a path prefix: a range on
/// SQLite (its index on <c>path</c> serves it), <c>starts_with</c> on PostgreSQL (whose collation may not order
/// paths byte by byte).
/// </summary>
internal static class FilterSql
{
    /// <summary>The condition (<c>TRUE</c> for none) and its parameters; <paramref name="table"/> is the files table's alias.</summary>
    public static (string Sql, IReadOnlyList<(string Name, object Value)> Parameters) Where(LibraryFilter filter, string table, bool postgres)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var parts = new List<string>();
        var parameters = new List<(string, object)>();
        if (filter.Folders.Count > 0)
        {
            var folders = new List<string>();
            for (var i = 0; i < filter.Folders.Count; i++)
            {
                var prefix = filter.Folders[i].EndsWith('/') ? filter.Folders[i] : filter.Folders[i] + "/";
                if (postgres)
                {
                    folders.Add($"starts_with({table}.path, @f{i})");
                    parameters.Add(($"@f{i}", prefix));
                }
                else
                {
                    folders.Add($"({table}.path >= @f{i} AND {table}.path < @g{i})");
                    parameters.Add(($"@f{i}", prefix));
                    parameters.Add(($"@g{i}", prefix[..^1] + "0"));   // '/' + 1 is '0'
                }
            }

            parts.Add("(" + string.Join(" OR ", folders) + ")");
        }

        if (filter.From is { } from)
        {
            parts.Add($"{table}.metadata_version > 0 AND {table}.taken_at >= @from");
            parameters.Add(("@from", MetadataColumns.Seconds(from)));
        }

        if (filter.To is { } to)
        {
            parts.Add($"{table}.metadata_version > 0 AND {table}.taken_at < @to");
            parameters.Add(("@to", MetadataColumns.Seconds(to)));
        }

        if (filter.Formats is { Count: > 0 } formats)
        {
            var names = formats.Select(f => f.Name()).Order(StringComparer.Ordinal).ToList();
            parts.Add($"{table}.metadata_version > 0 AND {table}.format IN ({string.Join(", ", names.Select((_, i) => $"@t{i}"))})");
            parameters.AddRange(names.Select((n, i) => ($"@t{i}", (object)n)));
        }

        return (parts.Count == 0 ? "TRUE" : string.Join(" AND ", parts.Select(p => "(" + p + ")")), parameters);
    }

    /// <summary>The order of a browse: newest first, undated last, then by id (newest first) so that pages neither skip nor repeat.</summary>
    public static string DateOrder(string table) => $"{table}.taken_at IS NULL, {table}.taken_at DESC, {table}.id DESC";
}
