using ClipSearch.Core.Imaging;
using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
using Npgsql;
using Pgvector;

namespace ClipSearch.Library.Storage.Postgres;

/// <summary>
/// The library in PostgreSQL with pgvector: embeddings in a <c>vector(N)</c> column with an HNSW index
/// (<c>vector_cosine_ops</c>), searched by the server. Several machines may index into one database at once:
/// each claims its files batch by batch (<see cref="ClaimAsync"/>), and unique paths and hashes keep rows single.
/// </summary>
public sealed partial class PostgresLibraryStore : ILibraryStore
{
    private const string ClaimTimeout = "15 minutes";
    /// <summary>
    /// The advisory lock indexing runs hold shared and a folder's removal takes exclusively: "CSIX" in the high 32 bits,
    /// the OID of this library's files table in the low ones, so libraries in other schemas of one database do not
    /// share it.
    /// </summary>
    private const string IndexingLock = "((x'43534958'::bigint << 32) | 'clipsearch_files'::regclass::oid::bigint)";

    private readonly NpgsqlDataSource _source;
    private static int _instances;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Interlocked.Increment(ref _instances)}";
    private bool _staleReleased;

    private PostgresLibraryStore(NpgsqlDataSource source, string description)
    {
        _source = source;
        Description = description;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    /// <remarks>Always null: a role that may not write gets the server's error on the first write.</remarks>
    public string? ReadOnlyReason => null;

    /// <summary>Connects with an Npgsql connection string and brings the schema up to date.</summary>
    public static async Task<PostgresLibraryStore> OpenAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ClipSearchException(ErrorCodes.LibraryBadConnectionString, $"Not a PostgreSQL connection string ({e.Message}).", [e.Message], e);
        }

        var description = $"postgres {csb.Host}:{csb.Port}/{csb.Database}";
        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        builder.UseVector();
        var source = builder.Build();
        try
        {
            await PostgresSchema.MigrateAsync(source, description, cancellationToken).ConfigureAwait(false);
            var store = new PostgresLibraryStore(source, description);
            // CREATE EXTENSION may just have created the vector type: load it.
            await using var c = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await c.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or System.Net.Sockets.SocketException)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw new ClipSearchException($"Cannot open the library {description}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public async Task<ModelIdentity?> GetModelAsync(CancellationToken cancellationToken = default)
    {
        var meta = await ReadListAsync("SELECT key, value FROM clipsearch_meta", r => (r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
        var map = meta.ToDictionary(m => m.Item1, m => m.Item2, StringComparer.Ordinal);
        return map.TryGetValue("model_hash", out var hash)
            ? new ModelIdentity(hash, map["model_variant"], int.Parse(map["model_dim"], CultureInfo.InvariantCulture))
            : null;
    }

    /// <inheritdoc/>
    public async Task SetModelAsync(ModelIdentity model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, "LOCK TABLE clipsearch_meta IN EXCLUSIVE MODE", cancellationToken).ConfigureAwait(false);
        await using (var check = new NpgsqlCommand("SELECT value FROM clipsearch_meta WHERE key = 'model_hash'", c))
        {
            var current = await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            var dim = await ScalarAsync(c, "SELECT value FROM clipsearch_meta WHERE key = 'model_dim'", cancellationToken).ConfigureAwait(false) as string;
            if (current == model.Hash && dim == model.EmbeddingDim.ToString(CultureInfo.InvariantCulture))
            {
                return;   // another machine recorded the same model first
            }
        }

        // The settings describe the embeddings (the model files' signature, the vector index's measured recall): dropped with them.
        await ExecAsync(c, "DELETE FROM clipsearch_files; DELETE FROM clipsearch_claims; DELETE FROM clipsearch_meta WHERE key LIKE 'setting:%'; " + PostgresSchema.ContentsTable(model.EmbeddingDim) +
            "UPDATE clipsearch_meta SET value = (value::bigint + 1)::text WHERE key = 'generation'", cancellationToken).ConfigureAwait(false);
        foreach (var (key, value) in new[] { ("model_hash", model.Hash), ("model_variant", model.Variant), ("model_dim", model.EmbeddingDim.ToString(CultureInfo.InvariantCulture)) })
        {
            await ExecAsync(c, "INSERT INTO clipsearch_meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", cancellationToken, key, value).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default) =>
        (await ReadListAsync("SELECT value FROM clipsearch_meta WHERE key = $1", r => r.GetString(0), cancellationToken, "setting:" + key).ConfigureAwait(false)).FirstOrDefault();

    /// <inheritdoc/>
    public async Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, "INSERT INTO clipsearch_meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", cancellationToken, "setting:" + key, value).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task AddFoldersAsync(IEnumerable<string> folders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folders);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var folder in folders)
        {
            await ExecAsync(c, "INSERT INTO clipsearch_folders(path) VALUES ($1) ON CONFLICT DO NOTHING", cancellationToken, folder).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> GetFoldersAsync(CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT path FROM clipsearch_folders ORDER BY path COLLATE \"C\"", r => r.GetString(0), cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// A session-level shared advisory lock on an unpooled connection of its own, held for the run; closing the
    /// connection (or a process that dies) ends the session, and the lock with it.
    /// </remarks>
    public async Task<IAsyncDisposable> HoldForIndexingAsync(CancellationToken cancellationToken = default)
    {
        // Not pooled: closing it ends the session, so the lock cannot outlive the run in a pooled connection.
        var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_source.ConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            await c.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ScalarAsync(c, $"SELECT pg_advisory_lock_shared({IndexingLock})", cancellationToken).ConfigureAwait(false);
            return new IndexingHold(c);
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class IndexingHold(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await ScalarAsync(connection, $"SELECT pg_advisory_unlock_shared({IndexingLock})", CancellationToken.None).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // The connection is gone: its session, and the lock with it, ended already.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async Task<bool> TryRemoveFolderAsync(string folder, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Exclusive on the lock every indexing run holds shared, on any machine: refused while one runs.
        if (await ScalarAsync(c, $"SELECT pg_try_advisory_xact_lock({IndexingLock})", cancellationToken).ConfigureAwait(false) is not true)
        {
            return false;
        }

        await ExecAsync(c, "DELETE FROM clipsearch_folder_skips WHERE folder = $1", cancellationToken, folder).ConfigureAwait(false);
        await ExecAsync(c, "DELETE FROM clipsearch_folders WHERE path = $1", cancellationToken, folder).ConfigureAwait(false);
        await ExecAsync(c, "DELETE FROM clipsearch_files WHERE path = $1 OR starts_with(path, $2)", cancellationToken, folder, Prefix(folder)).ConfigureAwait(false);
        await DeleteOrphansAsync(c, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Two machines walking the same folder at once both replace the counts; the rows of the one that commits last
    /// are merged over the other's (an extension only the first one met stays), which describes the same folder.
    /// </remarks>
    public async Task SetSkippedAsync(string folder, SkippedFiles skipped, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(skipped);
        var rows = SkipRows.Of(skipped).ToList();
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, "DELETE FROM clipsearch_folder_skips WHERE folder = $1", cancellationToken, folder).ConfigureAwait(false);
        if (rows.Count > 0)
        {
            await ExecAsync(c, """
                INSERT INTO clipsearch_folder_skips(folder, reason, extension, files)
                SELECT $1, r, e, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS w(r, e, n)
                ON CONFLICT (folder, reason, extension) DO UPDATE SET files = excluded.files
                """, cancellationToken, folder, rows.Select(r => r.Reason).ToArray(), rows.Select(r => r.Extension).ToArray(),
                rows.Select(r => (long)r.Files).ToArray()).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, SkippedFiles>> GetSkippedAsync(CancellationToken cancellationToken = default) =>
        SkipRows.ByFolder(await ReadListAsync("SELECT folder, reason, extension, files FROM clipsearch_folder_skips",
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public Task<IReadOnlyList<StoredFile>> GetFilesUnderAsync(string folder, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT path, size, mtime, content_id, error, metadata_version FROM clipsearch_files WHERE path = $1 OR starts_with(path, $2)",
            r => new StoredFile(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4), MetadataColumns.Version(r, 5)),
            cancellationToken, folder, Prefix(folder));

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ScannedFile>> ClaimAsync(IReadOnlyList<ScannedFile> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!_staleReleased)
        {
            await ReleaseDeadLocalClaimsAsync(cancellationToken).ConfigureAwait(false);
            _staleReleased = true;
        }

        // A claim is taken when free, expired, or ours; files already recorded as they are now (another
        // indexer committed them meanwhile) are not claimed.
        var claimed = await ReadListAsync($"""
            WITH wanted AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(path, size, mtime))
            INSERT INTO clipsearch_claims(path, owner)
            SELECT w.path, $4 FROM wanted w
            WHERE NOT EXISTS (SELECT 1 FROM clipsearch_files f WHERE f.path = w.path AND f.size = w.size AND f.mtime = w.mtime)
            ON CONFLICT (path) DO UPDATE SET owner = excluded.owner, claimed_at = now()
                WHERE clipsearch_claims.owner = excluded.owner OR clipsearch_claims.claimed_at < now() - interval '{ClaimTimeout}'
            RETURNING path
            """, r => r.GetString(0), cancellationToken,
            files.Select(f => f.Path).ToArray(), files.Select(f => f.Size).ToArray(), files.Select(f => f.ModifiedTicks).ToArray(), _owner).ConfigureAwait(false);
        var set = claimed.ToHashSet(StringComparer.Ordinal);
        return [.. files.Where(f => set.Contains(f.Path))];
    }

    /// <summary>Claims left by indexers of this machine whose process is gone (killed, crashed) are dropped at once.</summary>
    private async Task ReleaseDeadLocalClaimsAsync(CancellationToken cancellationToken)
    {
        var host = Environment.MachineName + ":";
        var owners = await ReadListAsync("SELECT DISTINCT owner FROM clipsearch_claims WHERE starts_with(owner, $1)", r => r.GetString(0), cancellationToken, host).ConfigureAwait(false);
        var dead = owners.Where(o => o.Split(':') is [_, var pid, ..] && int.TryParse(pid, CultureInfo.InvariantCulture, out var id) && !IsAlive(id)).ToArray();
        if (dead.Length > 0)
        {
            await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await ExecAsync(c, "DELETE FROM clipsearch_claims WHERE owner = ANY($1)", cancellationToken, (object)dead).ConfigureAwait(false);
        }

        static bool IsAlive(int pid)
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, long>> FindContentsAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count == 0 || await GetModelAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            return new Dictionary<string, long>();
        }

        var rows = await ReadListAsync("SELECT hash, id FROM clipsearch_contents WHERE hash = ANY($1)", r => (r.GetString(0), r.GetInt64(1)), cancellationToken, (object)hashes.ToArray()).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Item1, r => r.Item2, StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public async Task CommitAsync(IReadOnlyList<IndexedFile> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var npgsqlBatch = new NpgsqlBatch(c, tx);
        foreach (var item in batch)
        {
            if (item.Embedding is not null)
            {
                npgsqlBatch.BatchCommands.Add(Command("INSERT INTO clipsearch_contents(hash, embedding) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
                    item.Hash!, new Vector(item.Embedding)));
            }

            npgsqlBatch.BatchCommands.Add(Command(UpsertFile,
                [item.File.Path, item.File.Size, item.File.ModifiedTicks, item.Error is null ? item.Hash! : DBNull.Value, (object?)item.Error ?? DBNull.Value,
                    .. MetadataColumns.Values(item.Metadata)]));
        }

        npgsqlBatch.BatchCommands.Add(Command("DELETE FROM clipsearch_claims WHERE path = ANY($1)", (object)batch.Select(b => b.File.Path).ToArray()));
        await npgsqlBatch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task SetMetadataAsync(IReadOnlyList<(string Path, PhotoMetadata Metadata)> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var npgsqlBatch = new NpgsqlBatch(c, tx);
        var set = string.Join(", ", MetadataColumns.Names.Select((n, i) => $"{n} = ${i + 2}"));
        foreach (var (path, metadata) in files)
        {
            npgsqlBatch.BatchCommands.Add(Command($"UPDATE clipsearch_files SET {set} WHERE path = $1", [path, .. MetadataColumns.Values(metadata)]));
        }

        if (npgsqlBatch.BatchCommands.Count > 0)
        {
            await npgsqlBatch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task DeleteFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, "DELETE FROM clipsearch_files WHERE path = ANY($1)", cancellationToken, (object)paths.ToArray()).ConfigureAwait(false);
        await DeleteOrphansAsync(c, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<StoredVectors> LoadVectorsAsync(long afterId, CancellationToken cancellationToken = default)
    {
        var dim = (await GetModelAsync(cancellationToken).ConfigureAwait(false))?.EmbeddingDim ?? 0;
        if (dim == 0)
        {
            return new StoredVectors([], [], 0);
        }

        var rows = await ReadListAsync("SELECT id, embedding FROM clipsearch_contents WHERE id > $1 ORDER BY id",
            r => (r.GetInt64(0), r.GetFieldValue<Vector>(1).Memory), cancellationToken, afterId).ConfigureAwait(false);
        var vectors = new float[rows.Count * dim];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].Memory.Span.CopyTo(vectors.AsSpan(i * dim, dim));
        }

        return new StoredVectors([.. rows.Select(r => r.Item1)], vectors, dim);
    }

    /// <inheritdoc/>
    public async Task<long> GetGenerationAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return long.Parse((string)(await ScalarAsync(c, "SELECT value FROM clipsearch_meta WHERE key = 'generation'", cancellationToken).ConfigureAwait(false))!, CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<IndexedImage>>> GetImagesOfAsync(IReadOnlyCollection<long> contentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contentIds);
        var rows = await ReadListAsync($"{SelectImages} WHERE content_id = ANY($1) ORDER BY path COLLATE \"C\"",
            ReadImage, cancellationToken, (object)contentIds.ToArray()).ConfigureAwait(false);
        return rows.GroupBy(r => r.ContentId).ToDictionary(g => g.Key, g => (IReadOnlyList<IndexedImage>)[.. g]);
    }

    /// <inheritdoc/>
    public async Task<IndexedImage?> GetImageAsync(long id, CancellationToken cancellationToken = default) =>
        (await ReadListAsync($"{SelectImages} WHERE id = $1 AND content_id IS NOT NULL", ReadImage, cancellationToken, id).ConfigureAwait(false)) is [var image] ? image : null;

    /// <inheritdoc/>
    public Task<IReadOnlyList<IndexedImage>> ListImagesAsync(long afterId, int limit, CancellationToken cancellationToken = default) =>
        ReadListAsync($"{SelectImages} WHERE id > $1 AND content_id IS NOT NULL ORDER BY id LIMIT $2", ReadImage, cancellationToken, afterId, limit);

    /// <inheritdoc/>
    public async Task<float[]?> GetEmbeddingAsync(long contentId, CancellationToken cancellationToken = default)
    {
        if (await GetModelAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            return null;   // no contents table before a model is recorded
        }

        var rows = await ReadListAsync("SELECT embedding FROM clipsearch_contents WHERE id = $1", r => r.GetFieldValue<Vector>(0).ToArray(), cancellationToken, contentId).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<FileError>> GetErrorsAsync(CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT path, error FROM clipsearch_files WHERE error IS NOT NULL ORDER BY path COLLATE \"C\"", r => new FileError(r.GetString(0), r.GetString(1)), cancellationToken);

    /// <inheritdoc/>
    public async Task<LibraryStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        var folders = await GetFoldersAsync(cancellationToken).ConfigureAwait(false);
        var model = await GetModelAsync(cancellationToken).ConfigureAwait(false);
        var skipped = SkippedFiles.SumOutermost(await GetSkippedAsync(cancellationToken).ConfigureAwait(false));
        var counts = await ReadListAsync("""
            SELECT count(*) FILTER (WHERE size >= 0), count(content_id), count(error) FILTER (WHERE size >= 0),
                   pg_total_relation_size('clipsearch_files') + COALESCE(pg_total_relation_size(to_regclass('clipsearch_contents')), 0),
                   count(*) FILTER (WHERE size < 0)
            FROM clipsearch_files
            """, r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4)), cancellationToken).ConfigureAwait(false);
        var contents = 0L;
        if (model is not null)
        {
            await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            contents = (long)(await ScalarAsync(c, "SELECT count(*) FROM clipsearch_contents", cancellationToken).ConfigureAwait(false))!;
        }

        // A folder's problem is a row with size -1 (ScannedFile.FolderSize): counted apart from the image files.
        var (files, indexed, failed, bytes, folderErrors) = counts[0];
        return new LibraryStats(Description, folders, files, indexed, failed, contents, model?.Short, bytes) { FolderErrors = folderErrors, Skipped = skipped };
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static string Prefix(string folder) => folder.EndsWith('/') ? folder : folder + "/";

    private static async Task DeleteOrphansAsync(NpgsqlConnection c, CancellationToken cancellationToken)
    {
        if (await ScalarAsync(c, "SELECT to_regclass('clipsearch_contents') IS NOT NULL", cancellationToken).ConfigureAwait(false) is not true)
        {
            return;
        }

        var deleted = await ExecAsync(c, "DELETE FROM clipsearch_contents c WHERE NOT EXISTS (SELECT 1 FROM clipsearch_files f WHERE f.content_id = c.id)", cancellationToken).ConfigureAwait(false);
        if (deleted > 0)
        {
            await ExecAsync(c, "UPDATE clipsearch_meta SET value = (value::bigint + 1)::text WHERE key = 'generation'", cancellationToken).ConfigureAwait(false);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static readonly string SelectImages = $"SELECT id, path, content_id, size, {MetadataColumns.List} FROM clipsearch_files";

    private static readonly string UpsertFile = $"""
        INSERT INTO clipsearch_files(path, size, mtime, content_id, error, {MetadataColumns.List})
        VALUES ($1, $2, $3, (SELECT id FROM clipsearch_contents WHERE hash = $4), $5, {string.Join(", ", MetadataColumns.Names.Select((_, i) => $"${i + 6}"))})
        ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, content_id = excluded.content_id,
            error = excluded.error, indexed_at = now(), {string.Join(", ", MetadataColumns.Names.Select(n => $"{n} = excluded.{n}"))}
        """;

    private static IndexedImage ReadImage(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetInt64(2)) { Bytes = r.GetInt64(3), Metadata = MetadataColumns.Read(r, 4) };

    /// <inheritdoc/>
    public async Task<IReadOnlySet<long>> GetContentIdsAsync(LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: true);
        return (await ReadNamedAsync($"SELECT DISTINCT f.content_id FROM clipsearch_files f WHERE f.content_id IS NOT NULL AND {where}", r => r.GetInt64(0),
            parameters, cancellationToken).ConfigureAwait(false)).ToHashSet();
    }

    /// <inheritdoc/>
    public async Task<LibraryPage> BrowseAsync(LibraryFilter filter, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "clipsearch_files", postgres: true);
        var total = (await ReadNamedAsync($"SELECT count(*) FROM clipsearch_files WHERE content_id IS NOT NULL AND {where}", r => r.GetInt64(0), parameters, cancellationToken)
            .ConfigureAwait(false))[0];
        var images = await ReadNamedAsync($"{SelectImages} WHERE content_id IS NOT NULL AND {where} ORDER BY {FilterSql.DateOrder("clipsearch_files")} LIMIT @limit OFFSET @offset",
            ReadImage, [.. parameters, ("@limit", limit), ("@offset", offset)], cancellationToken).ConfigureAwait(false);
        return new LibraryPage(images, total);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<long>> GetTakenAtAsync(LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "clipsearch_files", postgres: true);
        return await ReadNamedAsync($"SELECT taken_at FROM clipsearch_files WHERE content_id IS NOT NULL AND metadata_version > 0 AND taken_at IS NOT NULL AND {where}",
            r => r.GetInt64(0), parameters, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> GetImagePathsAsync(CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT path FROM clipsearch_files WHERE content_id IS NOT NULL", r => r.GetString(0), cancellationToken);

    /// <summary>
    /// The <paramref name="k"/> contents nearest to <paramref name="query"/> among those with an image that passes
    /// <paramref name="filter"/>: an exact scan of those rows (the planner filters first; no approximate index is asked).
    /// </summary>
    public async Task<IReadOnlyList<VectorHit>> SearchFilteredAsync(float[] query, int k, LibraryFilter filter, CancellationToken cancellationToken = default)
    {
        var (where, parameters) = FilterSql.Where(filter, "f", postgres: true);
        try
        {
            return await ReadNamedAsync($"""
                SELECT c.id, -(c.embedding <#> @query) FROM clipsearch_contents c
                WHERE EXISTS (SELECT 1 FROM clipsearch_files f WHERE f.content_id = c.id AND {where})
                ORDER BY c.embedding <#> @query LIMIT @k
                """, r => new VectorHit(r.GetInt64(0), (float)r.GetDouble(1)), [.. parameters, ("@query", new Vector(query)), ("@k", k)], cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];   // no model recorded yet: nothing indexed
        }
    }

    private async Task<IReadOnlyList<T>> ReadNamedAsync<T>(string sql, Func<NpgsqlDataReader, T> read, IReadOnlyList<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, c);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name.TrimStart('@'), value));
        }

        var list = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(read(reader));
        }

        return list;
    }

    private static async Task<int> ExecAsync(NpgsqlConnection c, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, c);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection c, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, c);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object[] values)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, c);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
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
