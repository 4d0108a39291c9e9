using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using Microsoft.Data.Sqlite;

namespace ClipSearch.Library.Storage.Sqlite;

/// <summary>
/// The library in one SQLite file (Microsoft.Data.Sqlite): WAL journal, so that searches read while an indexer
/// writes and a killed process leaves the last committed batch intact; synchronous=NORMAL (a power cut may lose
/// the last commits, never consistency). Each call opens a pooled connection, so the store is thread-safe.
/// </summary>
/// <remarks>
/// A library that cannot be written — on a read-only mount, or a file or folder this user may not write — is
/// opened read-only: it can be searched and its stats and errors read; indexing and removing folders say it is
/// read-only (<see cref="ReadOnlyReason"/>). SQLite itself says whether it could open the file for writing
/// (<c>sqlite3_db_readonly</c>), which covers every cause, root on a read-only mount included. A WAL database
/// can be read without write access only if its <c>-shm</c> file exists or can be created beside it; otherwise
/// it is opened <c>immutable=1</c>, which reads the main file alone — right for a library nobody writes meanwhile
/// (a read-only mount or a copy), and the only way to read it at all.
/// </remarks>
public sealed class SqliteLibraryStore : ILibraryStore
{
    private const int SqliteReadOnly = 8;
    private const int SqliteCantOpen = 14;
    private const string NotWritable = "the file or its folder cannot be written: a read-only mount, or permissions";
    private readonly string _connectionString;

    private SqliteLibraryStore(string path, string connectionString, string? readOnlyReason)
    {
        Path = path;
        _connectionString = connectionString;
        ReadOnlyReason = readOnlyReason;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public string Description => Path;

    /// <inheritdoc/>
    public string? ReadOnlyReason { get; }

    /// <summary>
    /// Opens (or creates) the library at <paramref name="path"/> and brings its schema up to date; a library that
    /// cannot be written is opened read-only. A file that is not a ClipSearch library (another SQLite database, or
    /// no database at all) is refused before anything is written to it.
    /// </summary>
    public static SqliteLibraryStore Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        SqliteLibraryStore? store = null;
        try
        {
            var exists = File.Exists(full);
            if (!exists)
            {
                Directory.CreateDirectory(dir);
            }

            store = new SqliteLibraryStore(full, ConnectionString(full, exists ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadWriteCreate), null);
            using (var c = store.Connect())
            {
                if (SQLitePCL.raw.sqlite3_db_readonly(c.Handle, "main") != 1)
                {
                    SqliteSchema.CheckIsLibrary(c, full);   // before anything is written: another database is left as it was
                    using (var wal = c.CreateCommand())
                    {
                        wal.CommandText = "PRAGMA journal_mode=WAL";
                        wal.ExecuteNonQuery();
                    }

                    SqliteSchema.Migrate(c, full);
                    return store;
                }
            }

            store.ClearPool();
            return exists ? OpenReadOnly(full) : throw new ClipSearchException($"Cannot create the library {full}: {NotWritable}.");
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCantOpen or SqliteReadOnly && File.Exists(full))
        {
            // Writable file, but no -wal and -shm can be made beside it (a folder this user may not write).
            store?.ClearPool();
            return OpenReadOnly(full);
        }
        catch (SqliteException e)
        {
            store?.ClearPool();
            throw NotALibrary(full, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            store?.ClearPool();
            throw new ClipSearchException($"Cannot open the library {full}: {e.Message}", e);
        }
        catch (ClipSearchException)
        {
            store?.ClearPool();
            throw;
        }
    }

    private static SqliteLibraryStore OpenReadOnly(string full)
    {
        SqliteException? failure = null;
        foreach (var immutable in new[] { false, true })
        {
            var store = new SqliteLibraryStore(full, ConnectionString(full, SqliteOpenMode.ReadOnly, immutable), NotWritable);
            try
            {
                using var c = store.Connect();
                SqliteSchema.CheckIsLibrary(c, full);
                SqliteSchema.CheckCurrent(c, full);
                return store;
            }
            catch (SqliteException e)
            {
                store.ClearPool();
                failure = e;   // without immutable: no -shm, and none can be created
            }
            catch
            {
                store.ClearPool();
                throw;
            }
        }

        throw NotALibrary(full, failure!);
    }

    private static ClipSearchException NotALibrary(string full, SqliteException e) =>
        new($"{full} is not a ClipSearch library (SQLite: {e.Message}).", e);

    private static string ConnectionString(string path, SqliteOpenMode mode, bool immutable = false) => new SqliteConnectionStringBuilder
    {
        // immutable=1 needs a URI file name; every path segment escaped (SQLite decodes %XX, and '?' or '#' would end the path).
        DataSource = immutable ? "file:" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString)) + "?immutable=1" : path,
        Mode = mode,
        Pooling = true,
        DefaultTimeout = 60,
    }.ToString();

    private void ClearPool()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <inheritdoc/>
    public async Task<ModelIdentity?> GetModelAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var meta = await ReadMetaAsync(c, cancellationToken).ConfigureAwait(false);
        return meta.TryGetValue("model_hash", out var hash)
            ? new ModelIdentity(hash, meta["model_variant"], int.Parse(meta["model_dim"], CultureInfo.InvariantCulture))
            : null;
    }

    /// <inheritdoc/>
    public async Task SetModelAsync(ModelIdentity model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Another model's embeddings cannot be compared with this one's: every file is indexed again.
        await ExecAsync(c, tx, "DELETE FROM files; DELETE FROM contents; UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'", cancellationToken).ConfigureAwait(false);
        foreach (var (key, value) in new[] { ("model_hash", model.Hash), ("model_variant", model.Variant), ("model_dim", model.EmbeddingDim.ToString(CultureInfo.InvariantCulture)) })
        {
            await ExecAsync(c, tx, "INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", cancellationToken, ("$k", key), ("$v", value)).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ScalarAsync(c, "SELECT value FROM meta WHERE key = $k", cancellationToken, ("$k", "setting:" + key)).ConfigureAwait(false) as string;
    }

    /// <inheritdoc/>
    public async Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, null, "INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", cancellationToken,
            ("$k", "setting:" + key), ("$v", value)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task AddFoldersAsync(IEnumerable<string> folders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folders);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var folder in folders)
        {
            await ExecAsync(c, tx, "INSERT INTO folders(path, added_at) VALUES ($p, $t) ON CONFLICT(path) DO NOTHING", cancellationToken,
                ("$p", folder), ("$t", DateTime.UtcNow.ToString("O"))).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> GetFoldersAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadListAsync(c, "SELECT path FROM folders ORDER BY path", r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task RemoveFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var (lo, hi) = PathRange(folder);
        await ExecAsync(c, tx, "DELETE FROM folders WHERE path = $f; DELETE FROM files WHERE path = $f OR (path >= $lo AND path < $hi)", cancellationToken,
            ("$f", folder), ("$lo", lo), ("$hi", hi)).ConfigureAwait(false);
        await DeleteOrphansAsync(c, tx, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StoredFile>> GetFilesUnderAsync(string folder, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var (lo, hi) = PathRange(folder);
        return await ReadListAsync(c, "SELECT path, size, mtime, content_id, error FROM files WHERE path = $f OR (path >= $lo AND path < $hi)",
            r => new StoredFile(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4)),
            cancellationToken, ("$f", folder), ("$lo", lo), ("$hi", hi)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ScannedFile>> ClaimAsync(IReadOnlyList<ScannedFile> files, CancellationToken cancellationToken = default) =>
        Task.FromResult(files);   // one machine: nothing to share

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, long>> FindContentsAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var found = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var command = c.CreateCommand();
        command.CommandText = "SELECT id FROM contents WHERE hash = $h";
        var p = command.Parameters.Add("$h", SqliteType.Text);
        foreach (var hash in hashes)
        {
            p.Value = hash;
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long id)
            {
                found[hash] = id;
            }
        }

        return found;
    }

    /// <inheritdoc/>
    public async Task CommitAsync(IReadOnlyList<IndexedFile> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var content = c.CreateCommand();
        content.Transaction = tx;
        content.CommandText = "INSERT INTO contents(hash, embedding) VALUES ($h, $e) ON CONFLICT(hash) DO NOTHING";
        var ch = content.Parameters.Add("$h", SqliteType.Text);
        var ce = content.Parameters.Add("$e", SqliteType.Blob);
        await using var file = c.CreateCommand();
        file.Transaction = tx;
        file.CommandText = """
            INSERT INTO files(path, size, mtime, content_id, error, indexed_at)
            VALUES ($p, $s, $m, (SELECT id FROM contents WHERE hash = $h), $err, $t)
            ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, content_id = excluded.content_id,
                error = excluded.error, indexed_at = excluded.indexed_at
            """;
        var fp = file.Parameters.Add("$p", SqliteType.Text);
        var fs = file.Parameters.Add("$s", SqliteType.Integer);
        var fm = file.Parameters.Add("$m", SqliteType.Integer);
        var fh = file.Parameters.Add("$h", SqliteType.Text);
        var fe = file.Parameters.Add("$err", SqliteType.Text);
        var ft = file.Parameters.Add("$t", SqliteType.Text);
        var now = DateTime.UtcNow.ToString("O");
        foreach (var item in batch)
        {
            if (item.Embedding is not null)
            {
                ch.Value = item.Hash;
                ce.Value = VectorBytes.ToBytes(item.Embedding);
                await content.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            fp.Value = item.File.Path;
            fs.Value = item.File.Size;
            fm.Value = item.File.ModifiedTicks;
            fh.Value = item.Error is null ? item.Hash : DBNull.Value;
            fe.Value = (object?)item.Error ?? DBNull.Value;
            ft.Value = now;
            await file.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task DeleteFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "DELETE FROM files WHERE path = $p";
        var p = command.Parameters.Add("$p", SqliteType.Text);
        foreach (var path in paths)
        {
            p.Value = path;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await DeleteOrphansAsync(c, tx, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<StoredVectors> LoadVectorsAsync(long afterId, CancellationToken cancellationToken = default)
    {
        var model = await GetModelAsync(cancellationToken).ConfigureAwait(false);
        var dim = model?.EmbeddingDim ?? 0;
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var count = Convert.ToInt32(await ScalarAsync(c, "SELECT count(*) FROM contents WHERE id > $a", cancellationToken, ("$a", afterId)).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var ids = new List<long>(count);
        var vectors = new float[(long)count * dim];
        await using var command = c.CreateCommand();
        command.CommandText = "SELECT id, embedding FROM contents WHERE id > $a ORDER BY id";
        command.Parameters.AddWithValue("$a", afterId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (ids.Count < count && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            VectorBytes.CopyTo(reader.GetFieldValue<byte[]>(1), vectors.AsSpan(ids.Count * dim, dim));
            ids.Add(reader.GetInt64(0));
        }

        return new StoredVectors([.. ids], ids.Count == count ? vectors : vectors[..(ids.Count * dim)], dim);
    }

    /// <inheritdoc/>
    public async Task<long> GetGenerationAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(await ScalarAsync(c, "SELECT value FROM meta WHERE key = 'generation'", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<string>>> GetPathsAsync(IReadOnlyCollection<long> contentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contentIds);
        var result = new Dictionary<long, IReadOnlyList<string>>();
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in contentIds.Distinct())
        {
            result[id] = await ReadListAsync(c, "SELECT path FROM files WHERE content_id = $id ORDER BY path", r => r.GetString(0), cancellationToken, ("$id", id)).ConfigureAwait(false);
        }

        return result;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadListAsync(c, "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path", r => new FileError(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        var folders = await GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        var model = await GetModelAsync(cancellationToken).ConfigureAwait(false);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        async Task<long> Count(string sql) => Convert.ToInt64(await ScalarAsync(c, sql, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var files = await Count("SELECT count(*) FROM files").ConfigureAwait(false);
        var indexed = await Count("SELECT count(*) FROM files WHERE content_id IS NOT NULL").ConfigureAwait(false);
        var failed = await Count("SELECT count(*) FROM files WHERE error IS NOT NULL").ConfigureAwait(false);
        var contents = await Count("SELECT count(*) FROM contents").ConfigureAwait(false);
        var bytes = new[] { Path, Path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        return new LibraryStats(Path, folders, files, indexed, failed, contents, model?.Short, bytes);
    }

    /// <summary>Runs SQLite's <c>PRAGMA integrity_check</c>; "ok" when the file is sound.</summary>
    public async Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToString(await ScalarAsync(c, "PRAGMA integrity_check", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) ?? "";
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        ClearPool();   // this library's pooled connections only: another library open in the process keeps its own
        return ValueTask.CompletedTask;
    }

    /// <summary>[lo, hi) covering every path under <paramref name="folder"/>: '/' + 1 is '0'.</summary>
    internal static (string Lo, string Hi) PathRange(string folder)
    {
        var prefix = folder.EndsWith('/') ? folder : folder + "/";
        return (prefix, prefix[..^1] + "0");
    }

    private static async Task DeleteOrphansAsync(SqliteConnection c, SqliteTransaction tx, CancellationToken cancellationToken)
    {
        var deleted = await ExecAsync(c, tx, "DELETE FROM contents WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.content_id = contents.id)", cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            await ExecAsync(c, tx, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'", cancellationToken).ConfigureAwait(false);
        }
    }

    private SqliteConnection Connect()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        using var pragma = c.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON";
        pragma.ExecuteNonQuery();
        return c;
    }

    private async Task<SqliteConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var pragma = c.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return c;
    }

    private static async Task<Dictionary<string, string>> ReadMetaAsync(SqliteConnection c, CancellationToken cancellationToken)
    {
        var rows = await ReadListAsync(c, "SELECT key, value FROM meta", r => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Item1, r => r.Item2, StringComparer.Ordinal);
    }

    private static async Task<int> ExecAsync(SqliteConnection c, SqliteTransaction? tx, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection c, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<T>> ReadListAsync<T>(SqliteConnection c, string sql, Func<SqliteDataReader, T> read, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var list = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(read(reader));
        }

        return list;
    }
}
