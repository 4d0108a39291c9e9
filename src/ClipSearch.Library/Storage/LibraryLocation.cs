using Npgsql;

namespace ClipSearch.Library.Storage;

/// <summary>
/// Where <c>--library</c> points: nothing (the default file in the user's data folder), a SQLite file or folder,
/// an Npgsql connection string (<c>Host=…;Database=…</c>) or a <c>postgres://user:pass@host:port/db</c> URL.
/// </summary>
public static class LibraryLocation
{
    /// <summary>The default library file (<see cref="Core.ClipSearchHome.Library"/>): <c>$CLIPSEARCH_HOME/library.db</c>, else <c>$XDG_DATA_HOME/clipsearch/library.db</c>, else <c>~/.local/share/clipsearch/library.db</c>.</summary>
    public static string DefaultPath() => Core.ClipSearchHome.FromEnvironment().Library;

    /// <summary>True when <paramref name="location"/> names a PostgreSQL database.</summary>
    public static bool IsPostgres(string? location) =>
        location is not null && (location.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || location.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || (location.Contains('=', StringComparison.Ordinal) && location.Contains("host", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The Npgsql connection string of a PostgreSQL <paramref name="location"/> (see <see cref="IsPostgres"/>).</summary>
    public static string ConnectionString(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Contains("://", StringComparison.Ordinal) ? FromUrl(location) : location;
    }

    /// <summary>The SQLite file of <paramref name="location"/>: the default file when null, <c>library.db</c> inside a folder.</summary>
    public static string SqlitePath(string? location)
    {
        var path = string.IsNullOrWhiteSpace(location) ? DefaultPath() : location;
        return Directory.Exists(path) ? Path.Combine(path, "library.db") : path;
    }

    /// <summary>Turns <c>postgres://user:password@host:port/database?key=value</c> into an Npgsql connection string.</summary>
    public static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new Core.ClipSearchException(Core.ErrorCodes.LibraryBadPostgresUrl, $"'{url}' is not a postgres://user:password@host:port/database URL.", [url]);
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.Port > 0 ? uri.Port : 5432 };
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        var user = uri.UserInfo.Split(':', 2);
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
        }

        return builder.ConnectionString;
    }
}
