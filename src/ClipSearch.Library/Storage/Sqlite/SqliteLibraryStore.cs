using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.IO;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
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
/// (a read-only mount or a copy), and the only way to read it at all. Only then, though: not when SQLite failed
/// otherwise (busy, an I/O error: immutable takes no locks), and not when the <c>-wal</c> holds changes the main
/// file lacks (that library was not closed cleanly, and is refused rather than shown as it was before them).
/// </remarks>
public sealed class SqliteLibraryStore : ILibraryStore
{
    private const int SqliteReadOnly = 8;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADatabase = 26;
    private const int SqliteReadOnlyRecovery = SqliteReadOnly | (1 << 8);
    private const int SqliteReadOnlyCantInit = SqliteReadOnly | (5 << 8);
    private const int SqliteReadOnlyDirectory = SqliteReadOnly | (6 << 8);
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
    /// no database at all, or not a regular file) is refused before anything is written to it or beside it.
    /// </summary>
    public static SqliteLibraryStore Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        SqliteLibraryStore? store = null;
        try
        {
            // What is there, before SQLite opens it: a FIFO would block the open, a device would be read as a database.
            var stat = StatOrNull(full);
            if (stat is { Kind: not FileKind.Regular } odd)
            {
                throw new ClipSearchException($"{full} is {FileStat.Describe(odd.Kind)}, not a regular file: a library is a SQLite file (or the path of a new one).");
            }

            var exists = stat is not null;
            if (!exists)
            {
                Directory.CreateDirectory(dir);
            }
            else if (stat!.Value.Size > 0)
            {
                CheckIsLibraryReadingOnly(full);   // another application's database is refused before any read-write open
            }

            store = new SqliteLibraryStore(full, ConnectionString(full, exists ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadWriteCreate), null);
            using (var c = store.Connect())
            {
                if (SQLitePCL.raw.sqlite3_db_readonly(c.Handle, "main") != 1)
                {
                    SqliteSchema.CheckIsLibrary(c, full);   // again, now under the lock: it may have changed since
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
            throw Failure(full, e);
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

    /// <summary>
    /// Refuses a file that is not a ClipSearch library (nor an empty database) reading it without writing a byte to
    /// it or beside it. A read-write connection would not do: SQLite recovers a WAL database's <c>-wal</c> into its
    /// <c>-shm</c>, and the last connection to close checkpoints the <c>-wal</c> into the file and deletes both. Even a
    /// read-only connection writes the <c>-shm</c>, and creates a <c>-wal</c> and a <c>-shm</c> when they are missing.
    /// So: a database in rollback-journal mode is read <c>mode=ro</c> (it needs neither); one in WAL mode whose
    /// <c>-wal</c> is missing or empty is read from the main file alone (<c>immutable=1</c>: all of it is there); one
    /// with a <c>-wal</c> and a <c>-shm</c> is read with <c>readonly_shm=1</c> (SQLite then builds the WAL's index in
    /// memory). Without a <c>-shm</c>, the <c>-wal</c> cannot be read without writing one: the main file decides when
    /// it already says (a library, or another application's tables); otherwise the file is refused, unchanged.
    /// </summary>
    private static void CheckIsLibraryReadingOnly(string full)
    {
        if (!IsWalMode(full))
        {
            Probe(full, null);   // also a file that is not a database: SQLite says so
            return;
        }

        var walBytes = new FileInfo(full + "-wal") is { Exists: true } w ? w.Length : 0;
        if (walBytes > 0 && File.Exists(full + "-shm"))
        {
            try
            {
                Probe(full, "readonly_shm=1");
                return;
            }
            catch (SqliteException)
            {
                // Busy, or the -shm cannot be used read-only: what the main file says may still be enough.
            }
        }

        var empty = Probe(full, "immutable=1");
        if (empty && walBytes > 0)
        {
            var name = System.IO.Path.GetFileName(full);
            throw new ClipSearchException(ErrorCodes.LibraryUnfinishedChanges,
                $"{full} is a SQLite database whose last changes are still in {name}-wal, and they cannot be read without writing a {name}-shm beside it; " +
                "it was left unchanged.", [full]);
        }
    }

    /// <summary>Reads the schema on a connection that writes nothing (<paramref name="uriQuery"/>: SQLite URI parameters); true for an empty database.</summary>
    private static bool Probe(string full, string? uriQuery)
    {
        using var c = new SqliteConnection(ConnectionString(full, SqliteOpenMode.ReadOnly, uriQuery, pooling: false));
        c.Open();
        return SqliteSchema.CheckIsLibrary(c, full);
    }

    /// <summary>Whether the file's header says WAL mode (bytes 18 and 19 are 2); false for anything else, a file that is not a database included.</summary>
    private static bool IsWalMode(string full)
    {
        var header = new byte[20];
        using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        return file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length
            && header.AsSpan(0, 16).SequenceEqual("SQLite format 3\0"u8)
            && (header[18] == 2 || header[19] == 2);
    }

    private static FileStat? StatOrNull(string full)
    {
        try
        {
            return FileStat.Get(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static SqliteLibraryStore OpenReadOnly(string full)
    {
        try
        {
            return OpenReadOnly(full, null);
        }
        catch (SqliteException e) when (NeedsToWriteBeside(e))
        {
            // No -shm, and none can be created here. The main file alone is the whole library only when nothing is
            // waiting in the -wal; otherwise immutable=1 would silently show the library as it was before those changes.
            var wal = new FileInfo(full + "-wal");
            if (wal.Exists && wal.Length > 0)
            {
                throw new ClipSearchException(
                    $"The library {full} was not closed cleanly (its last changes are in {wal.Name}, and without a {System.IO.Path.GetFileName(full)}-shm, " +
                    "which cannot be created here, they cannot be read): open it once where it can be written, to finish them.", e);
            }

            try
            {
                return OpenReadOnly(full, "immutable=1");
            }
            catch (SqliteException again)
            {
                throw Failure(full, again);
            }
        }
        catch (SqliteException e)
        {
            throw Failure(full, e);
        }
    }

    private static SqliteLibraryStore OpenReadOnly(string full, string? uriQuery)
    {
        var store = new SqliteLibraryStore(full, ConnectionString(full, SqliteOpenMode.ReadOnly, uriQuery), NotWritable);
        try
        {
            using var c = store.Connect();
            SqliteSchema.CheckIsLibrary(c, full);
            SqliteSchema.CheckCurrent(c, full);
            return store;
        }
        catch
        {
            store.ClearPool();
            throw;
        }
    }

    /// <summary>
    /// SQLite could not open a WAL database read-only because it would have to create its <c>-wal</c> or <c>-shm</c>
    /// (a read-only folder or mount): the only failures the main file alone (<c>immutable=1</c>) may answer. A busy
    /// database or an I/O error is not one: immutable=1 takes no locks, and could read pages half written by a checkpoint.
    /// </summary>
    private static bool NeedsToWriteBeside(SqliteException e) =>
        e.SqliteErrorCode == SqliteCantOpen || e.SqliteExtendedErrorCode is SqliteReadOnlyCantInit or SqliteReadOnlyRecovery or SqliteReadOnlyDirectory;

    private static ClipSearchException Failure(string full, SqliteException e) => e.SqliteErrorCode == SqliteNotADatabase
        ? new($"{full} is not a ClipSearch library (SQLite: {e.Message}).", e)
        : new($"Cannot open the library {full} (SQLite: {e.Message}).", e);

    private static string ConnectionString(string path, SqliteOpenMode mode, string? uriQuery = null, bool pooling = true) => new SqliteConnectionStringBuilder
    {
        // URI parameters need a URI file name; every path segment escaped (SQLite decodes %XX, and '?' or '#' would end the path).
        DataSource = uriQuery is null ? path : "file:" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString)) + "?" + uriQuery,
        Mode = mode,
        Pooling = pooling,
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
    public Task<IAsyncDisposable> HoldForIndexingAsync(CancellationToken cancellationToken = default) =>
        IndexingLock.SharedAsync(Path, cancellationToken);

    /// <inheritdoc/>
    public async Task<bool> TryRemoveFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        // Exclusive on the file that indexing runs hold shared: refused while any run, in any process, holds it.
        using var exclusive = IndexingLock.TryExclusive(Path);
        if (exclusive is null)
        {
            return false;
        }

        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var (lo, hi) = PathRange(folder);
        await ExecAsync(c, tx, "DELETE FROM folder_skips WHERE folder = $f; DELETE FROM folders WHERE path = $f; DELETE FROM files WHERE path = $f OR (path >= $lo AND path < $hi)", cancellationToken,
            ("$f", folder), ("$lo", lo), ("$hi", hi)).ConfigureAwait(false);
        await DeleteOrphansAsync(c, tx, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public async Task SetSkippedAsync(string folder, SkippedFiles skipped, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, tx, "DELETE FROM folder_skips WHERE folder = $f", cancellationToken, ("$f", folder)).ConfigureAwait(false);
        foreach (var (reason, extension, files) in SkipRows.Of(skipped))
        {
            await ExecAsync(c, tx, "INSERT INTO folder_skips(folder, reason, extension, files) VALUES ($f, $r, $e, $n)", cancellationToken,
                ("$f", folder), ("$r", reason), ("$e", extension), ("$n", files)).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, SkippedFiles>> GetSkippedAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var rows = await ReadListAsync(c, "SELECT folder, reason, extension, files FROM folder_skips",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), cancellationToken).ConfigureAwait(false);
        return SkipRows.ByFolder(rows);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StoredFile>> GetFilesUnderAsync(string folder, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var (lo, hi) = PathRange(folder);
        return await ReadListAsync(c, "SELECT path, size, mtime, content_id, error, metadata_version FROM files WHERE path = $f OR (path >= $lo AND path < $hi)",
            r => new StoredFile(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4), MetadataColumns.Version(r, 5)),
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
        file.CommandText = $"""
            INSERT INTO files(path, size, mtime, content_id, error, indexed_at, {MetadataColumns.List})
            VALUES ($p, $s, $m, (SELECT id FROM contents WHERE hash = $h), $err, $t, {string.Join(", ", MetadataColumns.Names.Select(n => "$" + n))})
            ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, content_id = excluded.content_id,
                error = excluded.error, indexed_at = excluded.indexed_at, {string.Join(", ", MetadataColumns.Names.Select(n => $"{n} = excluded.{n}"))}
            """;
        var fmeta = MetadataColumns.Names.Select(n => file.Parameters.Add("$" + n, SqliteType.Blob)).ToArray();
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
            SetValues(fmeta, MetadataColumns.Values(item.Metadata));
            await file.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task SetMetadataAsync(IReadOnlyList<(string Path, PhotoMetadata Metadata)> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = c.CreateCommand();
        update.Transaction = tx;
        update.CommandText = $"UPDATE files SET {string.Join(", ", MetadataColumns.Names.Select(n => $"{n} = ${n}"))} WHERE path = $p";
        var path = update.Parameters.Add("$p", SqliteType.Text);
        var values = MetadataColumns.Names.Select(n => update.Parameters.Add("$" + n, SqliteType.Blob)).ToArray();
        foreach (var (p, metadata) in files)
        {
            path.Value = p;
            SetValues(values, MetadataColumns.Values(metadata));
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<IndexedImage>>> GetImagesOfAsync(IReadOnlyCollection<long> contentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contentIds);
        var result = new Dictionary<long, IReadOnlyList<IndexedImage>>();
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in contentIds.Distinct())
        {
            result[id] = await ReadListAsync(c, $"{SelectImages} WHERE content_id = $id ORDER BY path", ReadImage, cancellationToken, ("$id", id)).ConfigureAwait(false);
        }

        return result;
    }

    /// <inheritdoc/>
    public async Task<IndexedImage?> GetImageAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var rows = await ReadListAsync(c, $"{SelectImages} WHERE id = $id AND content_id IS NOT NULL", ReadImage, cancellationToken, ("$id", id)).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<IndexedImage>> ListImagesAsync(long afterId, int limit, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadListAsync(c, $"{SelectImages} WHERE id > $a AND content_id IS NOT NULL ORDER BY id LIMIT $l", ReadImage, cancellationToken, ("$a", afterId), ("$l", limit)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlySet<long>> GetContentIdsAsync(LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: false);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return (await ReadListAsync(c, $"SELECT DISTINCT f.content_id FROM files f WHERE f.content_id IS NOT NULL AND {where}", r => r.GetInt64(0),
            cancellationToken, [.. parameters]).ConfigureAwait(false)).ToHashSet();
    }

    /// <inheritdoc/>
    public async Task<long?> GetFilesVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(await ScalarAsync(c, "SELECT value FROM meta WHERE key = 'files_version'", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async Task<(long? Version, IReadOnlyList<FilterFields> Files)> GetFilterFieldsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);   // one snapshot: the version and the rows
        await using var version = c.CreateCommand();
        version.Transaction = tx;
        version.CommandText = "SELECT value FROM meta WHERE key = 'files_version'";
        var at = Convert.ToInt64(await version.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        await using var command = c.CreateCommand();
        command.Transaction = tx;
        command.CommandText = """
            SELECT content_id, path, CASE WHEN metadata_version > 0 THEN taken_at END, CASE WHEN metadata_version > 0 THEN format END
            FROM files WHERE content_id IS NOT NULL
            """;
        var files = new List<FilterFields>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add(new FilterFields(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return (at, files);
    }

    /// <inheritdoc/>
    public async Task<LibraryPage> BrowseAsync(LibraryFilter filter, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "files", postgres: false);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var total = Convert.ToInt64(await ScalarAsync(c, $"SELECT count(*) FROM files WHERE content_id IS NOT NULL AND {where}", cancellationToken, [.. parameters]).ConfigureAwait(false),
            CultureInfo.InvariantCulture);
        var images = await ReadListAsync(c, $"{SelectImages} WHERE content_id IS NOT NULL AND {where} ORDER BY {FilterSql.DateOrder("files")} LIMIT @limit OFFSET @offset",
            ReadImage, cancellationToken, [.. parameters, ("@limit", limit), ("@offset", offset)]).ConfigureAwait(false);
        return new LibraryPage(images, total);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<long>> GetTakenAtAsync(LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "files", postgres: false);
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadListAsync(c, $"SELECT taken_at FROM files WHERE content_id IS NOT NULL AND metadata_version > 0 AND taken_at IS NOT NULL AND {where}",
            r => r.GetInt64(0), cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> GetImagePathsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await ReadListAsync(c, "SELECT path FROM files WHERE content_id IS NOT NULL", r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<float[]?> GetEmbeddingAsync(long contentId, CancellationToken cancellationToken = default)
    {
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var blob = await ScalarAsync(c, "SELECT embedding FROM contents WHERE id = $id", cancellationToken, ("$id", contentId)).ConfigureAwait(false);
        if (blob is not byte[] bytes)
        {
            return null;
        }

        var vector = new float[bytes.Length / sizeof(float)];
        VectorBytes.CopyTo(bytes, vector);
        return vector;
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
        var skipped = SkippedFiles.SumOutermost(await GetSkippedAsync(cancellationToken).ConfigureAwait(false));
        await using var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        async Task<long> Count(string sql) => Convert.ToInt64(await ScalarAsync(c, sql, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        // A folder's problem is a row with size -1 (ScannedFile.FolderSize): counted apart from the image files.
        var files = await Count("SELECT count(*) FROM files WHERE size >= 0").ConfigureAwait(false);
        var indexed = await Count("SELECT count(*) FROM files WHERE content_id IS NOT NULL").ConfigureAwait(false);
        var failed = await Count("SELECT count(*) FROM files WHERE error IS NOT NULL AND size >= 0").ConfigureAwait(false);
        var folderErrors = await Count("SELECT count(*) FROM files WHERE size < 0").ConfigureAwait(false);
        var contents = await Count("SELECT count(*) FROM contents").ConfigureAwait(false);
        var bytes = new[] { Path, Path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        return new LibraryStats(Path, folders, files, indexed, failed, contents, model?.Short, bytes) { FolderErrors = folderErrors, Skipped = skipped };
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

    private static readonly string SelectImages = $"SELECT id, path, content_id, size, {MetadataColumns.List} FROM files";

    private static IndexedImage ReadImage(SqliteDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetInt64(2)) { Bytes = r.GetInt64(3), Metadata = MetadataColumns.Read(r, 4) };

    /// <summary>Sets <paramref name="parameters"/>' values, typed by each value (SQLite's columns take any).</summary>
    private static void SetValues(SqliteParameter[] parameters, object[] values)
    {
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i].SqliteType = values[i] switch
            {
                string => SqliteType.Text,
                double => SqliteType.Real,
                int or long => SqliteType.Integer,
                _ => SqliteType.Blob,
            };
            parameters[i].Value = values[i];
        }
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
