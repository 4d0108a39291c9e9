using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using ClipSearch.Library.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>Versioned schemas: older libraries are migrated on open, newer ones refused with a clear message.</summary>
public sealed class SchemaTests
{
    [Fact]
    public async Task Sqlite_LibraryFromANewerClipSearch_IsRefusedAndLeftAlone()
    {
        using var temp = new TempFolder();
        var path = temp.File("library.db");
        await using (var store = SqliteLibraryStore.Open(path))
        {
            await store.SetModelAsync(new ModelIdentity("m", "fp32", 4));
        }

        Execute(path, "PRAGMA user_version = 99");

        var error = Assert.Throws<ClipSearchException>(() => SqliteLibraryStore.Open(path));

        Assert.Equal($"{path} was written by a newer ClipSearch (schema 99; this one knows up to {SqliteSchema.Version}). Update ClipSearch.", error.Message);
        Assert.Equal(99L, Scalar(path, "PRAGMA user_version"));
    }

    [Fact]
    public async Task Sqlite_SchemaOneLibrary_IsMigratedAndRecordsWhatWalksPassedOver()
    {
        using var temp = new TempFolder();
        var path = temp.File("library.db");
        await using (var store = SqliteLibraryStore.Open(path))
        {
            await store.AddFoldersAsync(["/photos"]);
        }

        // A library as version 1 wrote it: no folder_skips, no metadata.
        Execute(path, $"DROP TABLE folder_skips; {DropSqliteMetadata} PRAGMA user_version = 1");

        await using var upgraded = SqliteLibraryStore.Open(path);
        await upgraded.SetSkippedAsync("/photos", new SkippedFiles([new(".mov", 2)], 1));
        var skipped = (await upgraded.GetSkippedAsync())["/photos"];

        Assert.Equal((long)SqliteSchema.Version, Scalar(path, "PRAGMA user_version"));
        Assert.Equal(4, SqliteSchema.Version);
        Assert.Equal([(".mov", 2)], skipped.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal(1, skipped.RawWithSibling);
        Assert.Equal(["/photos"], await upgraded.GetFoldersAsync());
    }

    [SkippableFact]
    public async Task Postgres_SchemaTwoLibrary_IsMigratedAndRecordsWhatWalksPassedOver()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Postgres, temp);
        await using (var store = await lib.OpenStoreAsync())
        {
            await store.AddFoldersAsync(["/photos"]);
        }

        await using (var c = new NpgsqlConnection(lib.Location))
        {
            await c.OpenAsync();
            await using var downgrade = new NpgsqlCommand("DROP TABLE clipsearch_folder_skips; UPDATE clipsearch_meta SET value = '2' WHERE key = 'schema_version'", c);
            await downgrade.ExecuteNonQueryAsync();
        }

        await using var upgraded = await PostgresLibraryStore.OpenAsync(lib.Location);
        await upgraded.SetSkippedAsync("/photos", new SkippedFiles([new(".mov", 2)], 1));
        var skipped = (await upgraded.GetSkippedAsync())["/photos"];

        await using var check = new NpgsqlConnection(lib.Location);
        await check.OpenAsync();
        await using var version = new NpgsqlCommand("SELECT value FROM clipsearch_meta WHERE key = 'schema_version'", check);
        Assert.Equal("4", await version.ExecuteScalarAsync());
        Assert.Equal(4, PostgresSchema.Version);
        Assert.Equal([(".mov", 2)], skipped.NotImages.Select(e => (e.Extension, e.Count)));
        Assert.Equal(1, skipped.RawWithSibling);
    }

    [SkippableFact]
    public async Task Postgres_SchemaOneLibrary_IsMigratedToEmbeddingsStoredInTheRow()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Postgres, temp);
        await using (var store = await lib.OpenStoreAsync())
        {
            await store.SetModelAsync(new ModelIdentity("m", "fp32", 4));
        }

        await using (var c = new NpgsqlConnection(lib.Location))
        {
            await c.OpenAsync();
            await using var downgrade = new NpgsqlCommand(
                "ALTER TABLE clipsearch_contents ALTER COLUMN embedding SET STORAGE EXTERNAL; UPDATE clipsearch_meta SET value = '1' WHERE key = 'schema_version'", c);
            await downgrade.ExecuteNonQueryAsync();
        }

        await (await PostgresLibraryStore.OpenAsync(lib.Location)).DisposeAsync();

        await using var check = new NpgsqlConnection(lib.Location);
        await check.OpenAsync();
        await using var storage = new NpgsqlCommand("SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'clipsearch_contents'::regclass AND attname = 'embedding'", check);
        await using var version = new NpgsqlCommand("SELECT value FROM clipsearch_meta WHERE key = 'schema_version'", check);
        Assert.Equal("p", await storage.ExecuteScalarAsync());
        Assert.Equal(PostgresSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), await version.ExecuteScalarAsync());
    }

    [SkippableFact]
    public async Task Postgres_LibraryFromANewerClipSearch_IsRefused()
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(Postgres, temp);
        await using (var c = new NpgsqlConnection(lib.Location))
        {
            await c.OpenAsync();
            await using var upgrade = new NpgsqlCommand("UPDATE clipsearch_meta SET value = '99' WHERE key = 'schema_version'", c);
            await upgrade.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<ClipSearchException>(() => PostgresLibraryStore.OpenAsync(lib.Location));

        Assert.Contains($"was written by a newer ClipSearch (schema 99; this one knows up to {PostgresSchema.Version}). Update ClipSearch.", error.Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task LibraryWithoutMetadataColumns_IsMigratedKeepingEveryEmbeddingAndThenRecordsMetadata(string kind)
    {
        using var temp = new TempFolder();
        await using var lib = await OpenAsync(kind, temp);
        float[] embedding = [0.6f, 0.8f, 0f, 0f];
        var file = new ScannedFile("/photos/a.jpg", 1234, 5678);
        await using (var store = await lib.OpenStoreAsync())
        {
            await store.SetModelAsync(new ModelIdentity("m", "fp32", 4));
            await store.CommitAsync([new IndexedFile(file, "hash-a", embedding, null)]);
        }

        // The library as the schema before metadata (SQLite 2, PostgreSQL 3) wrote it.
        if (kind == Sqlite)
        {
            Execute(lib.Location, $"{DropSqliteMetadata} PRAGMA user_version = 2");
        }
        else
        {
            await using var c = new NpgsqlConnection(lib.Location);
            await c.OpenAsync();
            await using var downgrade = new NpgsqlCommand(
                $"ALTER TABLE clipsearch_files {string.Join(", ", MetadataColumns.Select(c => $"DROP COLUMN {c}"))}; UPDATE clipsearch_meta SET value = '3' WHERE key = 'schema_version'", c);
            await downgrade.ExecuteNonQueryAsync();
        }

        await using var upgraded = await lib.OpenStoreAsync();
        var stored = Assert.Single(await upgraded.GetFilesUnderAsync("/photos"));
        var image = Assert.Single(await upgraded.ListImagesAsync(0, 10));
        Assert.Equal(0, stored.MetadataVersion);
        Assert.Null(image.Metadata);
        Assert.Equal(embedding, await upgraded.GetEmbeddingAsync(image.ContentId));

        var metadata = new PhotoMetadata(new DateTime(2024, 7, 4, 18, 30, 5), 120, TakenAtSource.Exif, 4000, 3000, ImageFormat.Heif,
            "Apple", "iPhone 15", -33.8568, 151.2153);
        await upgraded.SetMetadataAsync([(file.Path, metadata), ("/photos/not-recorded.jpg", metadata)]);

        Assert.Equal(metadata, (await upgraded.GetImageAsync(image.Id))?.Metadata);
        Assert.Equal(PhotoMetadata.CurrentVersion, Assert.Single(await upgraded.GetFilesUnderAsync("/photos")).MetadataVersion);
        Assert.Equal(embedding, await upgraded.GetEmbeddingAsync(image.ContentId));
        Assert.Single(await upgraded.ListImagesAsync(0, 10));
    }

    private static readonly string[] MetadataColumns =
        ["taken_at", "taken_offset", "taken_source", "width", "height", "format", "camera_make", "camera_model", "latitude", "longitude", "metadata_version"];

    /// <summary>SQLite's schema 3 undone: the files table as schema 2 had it.</summary>
    private static readonly string DropSqliteMetadata = $"DROP INDEX files_taken; {string.Concat(MetadataColumns.Select(c => $"ALTER TABLE files DROP COLUMN {c}; "))}";

    private static void Execute(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
