using Microsoft.Data.Sqlite;

namespace ClipSearch.Library.Storage.Sqlite;

/// <summary>
/// The SQLite schema, versioned by <c>PRAGMA user_version</c>: migration i takes version i to i + 1 in one
/// transaction. A database newer than this program is refused rather than guessed at.
/// </summary>
internal static class SqliteSchema
{
    private static readonly string[] _migrations =
    [
        // 1: folders, contents (one embedding per distinct file content), files (one row per path).
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE folders(path TEXT PRIMARY KEY, added_at TEXT NOT NULL);
        CREATE TABLE contents(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, embedding BLOB NOT NULL);
        CREATE TABLE files(
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            content_id INTEGER REFERENCES contents(id),
            error TEXT,
            indexed_at TEXT NOT NULL);
        CREATE INDEX files_content ON files(content_id);
        INSERT INTO meta(key, value) VALUES ('generation', '0');
        """,
    ];

    /// <summary>The version this program writes.</summary>
    public static int Version => _migrations.Length;

    public static void Migrate(SqliteConnection connection, string path)
    {
        using var tx = connection.BeginTransaction(System.Data.IsolationLevel.Serializable);
        var version = Convert.ToInt32(Scalar(connection, tx, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new Core.ClipSearchException($"{path} was written by a newer ClipSearch (schema {version}; this one knows up to {Version}). Update ClipSearch.");
        }

        for (var v = version; v < Version; v++)
        {
            Execute(connection, tx, _migrations[v]);
            Execute(connection, tx, $"PRAGMA user_version = {v + 1}");
        }

        tx.Commit();
    }

    private static object? Scalar(SqliteConnection c, SqliteTransaction tx, string sql)
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection c, SqliteTransaction tx, string sql)
    {
        using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
