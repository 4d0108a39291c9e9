using Npgsql;

namespace ClipSearch.Library.Storage.Postgres;

/// <summary>
/// The PostgreSQL schema, versioned in <c>clipsearch_meta.schema_version</c>; migrations run under an advisory lock
/// so that several machines starting at once migrate once. The contents table, whose <c>vector(N)</c> column
/// depends on the model, is created when the model is first recorded (<see cref="ContentsTable"/>).
/// </summary>
internal static class PostgresSchema
{
    private const long MigrationLock = 0x434c495053454152;   // "CLIPSEAR"

    private static readonly string[] _migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS clipsearch_folders(path text PRIMARY KEY, added_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS clipsearch_files(
            id bigserial PRIMARY KEY,
            path text NOT NULL UNIQUE,
            size bigint NOT NULL,
            mtime bigint NOT NULL,
            content_id bigint,
            error text,
            indexed_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS clipsearch_files_content ON clipsearch_files(content_id);
        CREATE TABLE IF NOT EXISTS clipsearch_claims(path text PRIMARY KEY, owner text NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO clipsearch_meta(key, value) VALUES ('generation', '0') ON CONFLICT DO NOTHING;
        """,
        // 2: embeddings stored in the row (see ContentsTable); rows written before keep their TOAST copy.
        """
        ALTER TABLE IF EXISTS clipsearch_contents ALTER COLUMN embedding SET STORAGE PLAIN;
        """,
        // 3: what each folder's last walk passed over (as SQLite's folder_skips).
        """
        CREATE TABLE IF NOT EXISTS clipsearch_folder_skips(
            folder text NOT NULL REFERENCES clipsearch_folders(path),
            reason text NOT NULL,
            extension text NOT NULL,
            files bigint NOT NULL,
            PRIMARY KEY(folder, reason, extension));
        """,
        // 4: what each file is beyond its pixels (as SQLite's schema 3; Storage/MetadataColumns.cs).
        """
        ALTER TABLE clipsearch_files
            ADD COLUMN IF NOT EXISTS taken_at bigint,
            ADD COLUMN IF NOT EXISTS taken_offset integer,
            ADD COLUMN IF NOT EXISTS taken_source text,
            ADD COLUMN IF NOT EXISTS width integer,
            ADD COLUMN IF NOT EXISTS height integer,
            ADD COLUMN IF NOT EXISTS format text,
            ADD COLUMN IF NOT EXISTS camera_make text,
            ADD COLUMN IF NOT EXISTS camera_model text,
            ADD COLUMN IF NOT EXISTS latitude double precision,
            ADD COLUMN IF NOT EXISTS longitude double precision,
            ADD COLUMN IF NOT EXISTS metadata_version integer NOT NULL DEFAULT 0;
        CREATE INDEX IF NOT EXISTS clipsearch_files_taken ON clipsearch_files(taken_at);
        """,
    ];

    public static int Version => _migrations.Length;

    /// <summary>
    /// The contents table for <paramref name="dim"/>-d embeddings, with its HNSW index (cosine). The embedding is
    /// stored in the row (<c>STORAGE PLAIN</c>): a 512-d vector (2 KB) is over PostgreSQL's TOAST threshold, and
    /// fetching every vector from the TOAST table makes an exact scan several times slower (figures: bench/README.md).
    /// </summary>
    public static string ContentsTable(int dim) => $"""
        DROP TABLE IF EXISTS clipsearch_contents;
        CREATE TABLE clipsearch_contents(id bigserial PRIMARY KEY, hash text NOT NULL UNIQUE, embedding vector({dim}) NOT NULL);
        ALTER TABLE clipsearch_contents ALTER COLUMN embedding SET STORAGE PLAIN;
        CREATE INDEX clipsearch_contents_hnsw ON clipsearch_contents USING hnsw (embedding vector_cosine_ops);
        """;

    public static async Task MigrateAsync(NpgsqlDataSource source, string description, CancellationToken cancellationToken)
    {
        await using var c = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await Exec(c, $"SELECT pg_advisory_xact_lock({MigrationLock})").ConfigureAwait(false);
        await Exec(c, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE IF NOT EXISTS clipsearch_meta(key text PRIMARY KEY, value text NOT NULL)").ConfigureAwait(false);
        await using var read = new NpgsqlCommand("SELECT value FROM clipsearch_meta WHERE key = 'schema_version'", c);
        var version = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (version > Version)
        {
            throw new Core.ClipSearchException($"The library {description} was written by a newer ClipSearch (schema {version}; this one knows up to {Version}). Update ClipSearch.");
        }

        for (var v = version; v < Version; v++)
        {
            await Exec(c, _migrations[v]).ConfigureAwait(false);
        }

        await Exec(c, $"INSERT INTO clipsearch_meta(key, value) VALUES ('schema_version', '{Version}') ON CONFLICT(key) DO UPDATE SET value = excluded.value").ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);

        async Task Exec(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
