using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Library.Indexing;
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

        // A library as version 1 wrote it: no folder_skips.
        Execute(path, "DROP TABLE folder_skips; PRAGMA user_version = 1");

        await using var upgraded = SqliteLibraryStore.Open(path);
        await upgraded.SetSkippedAsync("/photos", new SkippedFiles([new(".mov", 2)], 1));
        var skipped = (await upgraded.GetSkippedAsync())["/photos"];

        Assert.Equal((long)SqliteSchema.Version, Scalar(path, "PRAGMA user_version"));
        Assert.Equal(2, SqliteSchema.Version);
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
        Assert.Equal("3", await version.ExecuteScalarAsync());
        Assert.Equal(3, PostgresSchema.Version);
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
