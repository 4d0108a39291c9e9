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
        // 2: what each folder's last walk passed over: reason 'not-image' (a file not named as an image) by extension
        // (lower-case, '' for none), or 'raw-with-sibling' (a camera raw file with a JPEG or HEIC beside it; extension '').
        """
        CREATE TABLE folder_skips(
            folder TEXT NOT NULL REFERENCES folders(path),
            reason TEXT NOT NULL,
            extension TEXT NOT NULL,
            files INTEGER NOT NULL,
            PRIMARY KEY(folder, reason, extension));
        """,
        // 3: what each file is beyond its pixels (Storage/MetadataColumns.cs says what each column holds); files
        // recorded before have metadata_version 0, and the next index run reads theirs without re-embedding.
        """
        ALTER TABLE files ADD COLUMN taken_at INTEGER;
        ALTER TABLE files ADD COLUMN taken_offset INTEGER;
        ALTER TABLE files ADD COLUMN taken_source TEXT;
        ALTER TABLE files ADD COLUMN width INTEGER;
        ALTER TABLE files ADD COLUMN height INTEGER;
        ALTER TABLE files ADD COLUMN format TEXT;
        ALTER TABLE files ADD COLUMN camera_make TEXT;
        ALTER TABLE files ADD COLUMN camera_model TEXT;
        ALTER TABLE files ADD COLUMN latitude REAL;
        ALTER TABLE files ADD COLUMN longitude REAL;
        ALTER TABLE files ADD COLUMN metadata_version INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX files_taken ON files(taken_at);
        """,
        // 4: files_version, a number every change to the files table raises (in any process): an in-memory catalogue
        // of what filters read (Search/FilterCatalogue.cs) is loaded again when it changed. The triggers name no column
        // of files, so that later migrations may still alter them.
        """
        INSERT OR IGNORE INTO meta(key, value) VALUES ('files_version', '0');
        CREATE TRIGGER IF NOT EXISTS files_version_insert AFTER INSERT ON files
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'files_version'; END;
        CREATE TRIGGER IF NOT EXISTS files_version_update AFTER UPDATE ON files
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'files_version'; END;
        CREATE TRIGGER IF NOT EXISTS files_version_delete AFTER DELETE ON files
            BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'files_version'; END;
        """,
    ];

    /// <summary>The version this program writes.</summary>
    public static int Version => _migrations.Length;

    /// <summary>The tables every version has: a database without them is not a library, whatever its user_version.</summary>
    private static readonly string[] _tables = ["contents", "files", "folders", "meta"];

    /// <summary>
    /// Refuses, reading only, a database that is not a ClipSearch library: one with tables but not ours (another
    /// application's database). An empty database (a new file) is a library to create: true.
    /// </summary>
    public static bool CheckIsLibrary(SqliteConnection connection, string path)
    {
        var version = Convert.ToInt32(Scalar(connection, null, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        var tables = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        if (version == 0 && tables.Count == 0)
        {
            return true;
        }

        if (version > 0 && _tables.All(t => tables.Contains(t, StringComparer.Ordinal)))
        {
            return false;
        }

        var shown = tables.Count == 0 ? "none" : string.Join(", ", tables.Take(5)) + (tables.Count > 5 ? ", …" : "");
        throw new Core.ClipSearchException(Core.ErrorCodes.LibraryNotLibrary,
            $"{path} is a SQLite database but not a ClipSearch library (its tables: {shown}); it was left unchanged.", [path, shown]);
    }

    /// <summary>For a library opened read-only: refuses one that would need migrating (or is newer), which cannot be done.</summary>
    public static void CheckCurrent(SqliteConnection connection, string path)
    {
        var version = Convert.ToInt32(Scalar(connection, null, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        CheckNotNewer(version, path);
        if (version < Version)
        {
            throw new Core.ClipSearchException(
                $"{path} is read-only and was written by an older ClipSearch (schema {version}; this one needs {Version}): open it once where it can be written, to upgrade it.");
        }
    }

    public static void Migrate(SqliteConnection connection, string path)
    {
        using var tx = connection.BeginTransaction(System.Data.IsolationLevel.Serializable);
        var version = Convert.ToInt32(Scalar(connection, tx, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        CheckNotNewer(version, path);

        for (var v = version; v < Version; v++)
        {
            Execute(connection, tx, _migrations[v]);
            Execute(connection, tx, $"PRAGMA user_version = {v + 1}");
        }

        tx.Commit();
    }

    private static void CheckNotNewer(int version, string path)
    {
        if (version > Version)
        {
            throw new Core.ClipSearchException($"{path} was written by a newer ClipSearch (schema {version}; this one knows up to {Version}). Update ClipSearch.");
        }
    }

    private static object? Scalar(SqliteConnection c, SqliteTransaction? tx, string sql)
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
