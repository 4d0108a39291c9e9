using ClipSearch.Core;
using ClipSearch.Library.Search;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>Arguments that used to pass unnoticed: a folder that is not the library's, NaN thresholds, weights that are not finite.</summary>
public sealed class ArgumentTests
{
    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task RemoveFolder_NotAFolderOfTheLibrary_IsAnErrorNamingTheLibrarysFolders(string kind)
    {
        using var temp = ImageFolder("horse.png");
        await using var lib = await OpenAsync(kind, temp);
        var none = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.RemoveFolderAsync("/nope"));
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        // Before: nothing happened, and `library remove /nope` exited 0 without a word.
        var nope = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.RemoveFolderAsync("/nope"));
        var below = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.RemoveFolderAsync(temp.File("photos", "sub")));
        var nul = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.RemoveFolderAsync("/a\0b"));
        await lib.Library.RemoveFolderAsync(temp.File("photos") + "/");

        Assert.Equal($"/nope is not a folder of the library {lib.Library.Location}: it has none yet.", none.Message);
        Assert.Equal($"/nope is not a folder of the library {lib.Library.Location}; its folders: {temp.File("photos")}.", nope.Message);
        Assert.Equal($"{temp.File("photos", "sub")} is not a folder of the library {lib.Library.Location}; its folders: {temp.File("photos")}.", below.Message);
        Assert.Equal("The folder path '/a\\0b' contains a NUL character.", nul.Message);
        Assert.Equal(0L, (await lib.Library.GetStatsAsync()).Files);
    }

    [SkippableTheory]
    [InlineData(Sqlite)]
    [InlineData(Postgres)]
    public async Task RemoveFolder_WhileAnotherProcessIndexes_IsRefusedAndRemovesNothing(string kind)
    {
        using var temp = ImageFolder("horse.png", "coffee.png");
        await using var lib = await OpenAsync(kind, temp);
        await lib.Library.IndexAsync(Model, [temp.File("photos")]);

        // Another process's run: the library opened again beside this one, holding it as an index run does.
        var other = await lib.OpenStoreAsync();
        await using (other)
        {
            await using (await other.HoldForIndexingAsync())
            {
                var busy = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.RemoveFolderAsync(temp.File("photos")));
                Assert.Equal(ErrorCodes.LibraryIndexing, busy.Code);
                Assert.Equal($"The library {lib.Library.Location} is being indexed; a folder can be removed once the run ends.", busy.Message);
                Assert.Contains("Stop on the server's Library tab", Cli.CliErrors.Describe(busy), StringComparison.Ordinal);
                Assert.Equal(2L, (await lib.Library.GetStatsAsync()).Files);

                // Runs do not exclude one another: this library indexes while the other holds it.
                await lib.Library.IndexAsync(Model, [temp.File("photos")]);
            }
        }

        await lib.Library.RemoveFolderAsync(temp.File("photos"));
        Assert.Equal(0L, (await lib.Library.GetStatsAsync()).Files);
    }

    [Fact]
    public async Task Search_NothingOrFewerThanOneResult_IsACodedFactTheCliWordsWithItsFlags()
    {
        using var temp = ImageFolder("horse.png");
        await using var lib = await OpenAsync(Sqlite, temp);

        var nothing = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.SearchAsync(Model, " "));
        var zero = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.SearchAsync(Model, "a cat", k: 0));

        Assert.Equal((ErrorCodes.SearchNothing, "Nothing to search for: no query and no image.", 0), (nothing.Code, nothing.Message, nothing.Arguments.Count));
        Assert.Equal("Nothing to search for: give a query and/or --image PATH.", Cli.CliErrors.Describe(nothing));
        Assert.Equal((ErrorCodes.SearchBadCount, "The number of results must be at least 1 (got 0).", 0), (zero.Code, zero.Message, (int)zero.Arguments.Single()));
        Assert.Equal("-k must be at least 1 (got 0).", Cli.CliErrors.Describe(zero));
    }

    [Fact]
    public async Task LibraryLocation_NotAPostgresUrlOrConnectionString_IsACodedFactTheCliPrefixesWithItsFlag()
    {
        var url = Assert.Throws<ClipSearchException>(() => Storage.LibraryLocation.FromUrl("postgres://"));
        var connection = await Assert.ThrowsAsync<ClipSearchException>(() => Storage.Postgres.PostgresLibraryStore.OpenAsync("Host=db;Bogus Key=1"));

        Assert.Equal((ErrorCodes.LibraryBadPostgresUrl, "'postgres://' is not a postgres://user:password@host:port/database URL.", "postgres://"), (url.Code, url.Message, url.Arguments.Single()));
        Assert.Equal("--library: 'postgres://' is not a postgres://user:password@host:port/database URL.", Cli.CliErrors.Describe(url));
        Assert.Equal(ErrorCodes.LibraryBadConnectionString, connection.Code);
        Assert.Equal($"Not a PostgreSQL connection string ({connection.Arguments.Single()}).", connection.Message);
        Assert.Equal($"--library: not a PostgreSQL connection string ({connection.Arguments.Single()}).", Cli.CliErrors.Describe(connection));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public async Task FindDuplicates_ThresholdNotAFiniteNumber_IsRefused(float threshold)
    {
        using var temp = ImageFolder("horse.png");
        await using var lib = await OpenAsync(Sqlite, temp);

        var e = await Assert.ThrowsAsync<ClipSearchException>(() => lib.Library.FindDuplicatesAsync(threshold));

        Assert.Equal((ErrorCodes.DuplicatesBadThreshold, threshold), (e.Code, (float)e.Arguments[0]));
        Assert.StartsWith("The similarity threshold must be in (0, 1] (got ", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("--threshold must be in (0, 1] (got ", Cli.CliErrors.Describe(e), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NaN:cat", "NaN")]
    [InlineData("1e999:cat", "1e999")]
    [InlineData("dog + -Infinity:cat", "-Infinity")]
    [InlineData("\"a dog\" - Infinity:\"a cat\"", "Infinity")]
    public void QueryParser_WeightNotAFiniteNumber_IsRefusedSayingSo(string query, string weight)
    {
        // Before: accepted, and the search then said "the query's terms cancel out".
        var e = Assert.Throws<ClipSearchException>(() => QueryParser.Parse(query));

        Assert.Equal($"Query '{query}': the weight '{weight}' is not a finite number; weights are numbers such as 2 or 0.5.", e.Message);
    }

    [Fact]
    public void QueryEmbedder_HugeFiniteWeights_GiveTheSameVectorAsSmallOnes()
    {
        var huge = QueryEmbedder.Embed(Model, QueryParser.Parse("3e38:cat + 3e38:dog - 1e38:snow"), new());
        var small = QueryEmbedder.Embed(Model, QueryParser.Parse("3:cat + 3:dog - 1:snow"), new());

        Assert.Equal(small, huge, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public async Task Search_NonFiniteWeightAndNaNThreshold_FromTheCommandLine_AreOneErrorLine()
    {
        using var temp = ImageFolder("horse.png");
        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");
        Assert.Equal(0, (await CliRunner.RunAsync("index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);

        var search = await CliRunner.RunAsync("search", "--model", model, "--library", db, "1e999:cat");
        var duplicates = await CliRunner.RunAsync("duplicates", "--library", db, "--threshold", "NaN");
        var remove = await CliRunner.RunAsync("library", "remove", "--library", db, "/nope");

        Assert.Equal((1, "error: Query '1e999:cat': the weight '1e999' is not a finite number; weights are numbers such as 2 or 0.5."), (search.ExitCode, search.Stderr.Trim()));
        Assert.Equal((1, "error: --threshold must be in (0, 1] (got NaN)."), (duplicates.ExitCode, duplicates.Stderr.Trim()));
        Assert.Equal((1, $"error: /nope is not a folder of the library {db}; its folders: {temp.File("photos")}."), (remove.ExitCode, remove.Stderr.Trim()));
    }
}
