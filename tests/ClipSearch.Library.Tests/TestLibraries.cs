using ClipSearch.Core.Model;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Postgres;
using ClipSearch.Library.Storage.Sqlite;
using Npgsql;

namespace ClipSearch.Library.Tests;

/// <summary>The stores the behaviour tests run against, the tiny model, and images made for the tests.</summary>
internal static class TestLibraries
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
    public const string PostgresVariable = "CLIPSEARCH_TEST_POSTGRES";

    private static readonly Lazy<ClipModel> _model = new(() => ClipModel.Load(Fixtures.Path("tiny-clip"), new ModelOptions { Threads = 1, BatchSize = 4 }));

    /// <summary>tiny-clip (16-d), loaded once, batch size 4.</summary>
    public static ClipModel Model => _model.Value;

    /// <summary>The PostgreSQL server started by ./test; skips the test when absent, except under CI, where it fails.</summary>
    public static string PostgresConnectionString()
    {
        var value = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(value))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail($"{PostgresVariable} is not set under CI: ./test starts PostgreSQL with tests/services/postgres.sh and exports it.");
            }

            Skip.If(true, $"{PostgresVariable} is not set (./test sets it after starting PostgreSQL + pgvector).");
        }

        return value!;
    }

    /// <summary>A fresh, empty library of <paramref name="kind"/>: a file in <paramref name="temp"/>, or a new PostgreSQL schema.</summary>
    public static async Task<TestLibrary> OpenAsync(string kind, TempFolder temp, LibraryOptions? options = null)
    {
        if (kind == Sqlite)
        {
            var path = temp.File("library.db");
            return new TestLibrary(path, await ImageLibrary.OpenAsync(path, options), null);
        }

        var baseString = PostgresConnectionString();
        var schema = "t_" + Guid.NewGuid().ToString("N");
        await using (var c = new NpgsqlConnection(baseString))
        {
            await c.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", c);
            await command.ExecuteNonQueryAsync();
        }

        var location = new NpgsqlConnectionStringBuilder(baseString) { SearchPath = $"{schema},public" }.ConnectionString;
        return new TestLibrary(location, await ImageLibrary.OpenAsync(location, options), async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var c = new NpgsqlConnection(baseString);
            await c.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP SCHEMA {schema} CASCADE", c);
            await command.ExecuteNonQueryAsync();
        });
    }

    /// <summary>A folder with copies of fixture images (distinct contents).</summary>
    public static TempFolder ImageFolder(params string[] names)
    {
        var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        foreach (var name in names)
        {
            File.Copy(Fixtures.Path("images", name), temp.File("photos", name));
        }

        return temp;
    }

    /// <summary>Random unit vectors, row-major.</summary>
    public static float[] RandomUnitVectors(int count, int dim, int seed)
    {
        var random = new Random(seed);
        var data = new float[count * dim];
        for (var i = 0; i < count; i++)
        {
            var row = data.AsSpan(i * dim, dim);
            for (var j = 0; j < dim; j++)
            {
                // Box-Muller: Gaussian components give directions uniform on the sphere.
                row[j] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            }

            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
        }

        return data;
    }
}

/// <summary>An open library and how to clean it up.</summary>
internal sealed class TestLibrary(string location, ImageLibrary library, Func<Task>? cleanup) : IAsyncDisposable
{
    public string Location { get; } = location;

    public ImageLibrary Library { get; } = library;

    /// <summary>The library's store opened beside it (what the library hides), for tests that set it up or look inside.</summary>
    public async Task<ILibraryStore> OpenStoreAsync() =>
        LibraryLocation.IsPostgres(Location) ? await PostgresLibraryStore.OpenAsync(Location) : SqliteLibraryStore.Open(Location);

    public async ValueTask DisposeAsync()
    {
        await Library.DisposeAsync();
        if (cleanup is not null)
        {
            await cleanup();
        }
    }
}
