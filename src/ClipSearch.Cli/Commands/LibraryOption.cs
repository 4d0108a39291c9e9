using System.CommandLine;
using ClipSearch.Library;
using ClipSearch.Library.Storage;

namespace ClipSearch.Cli.Commands;

/// <summary><c>--library PATH|CONNSTRING|postgres://URL</c>, shared by the library commands.</summary>
internal sealed class LibraryOption
{
    public Option<string?> Library { get; } = new("--library", "-l")
    {
        Description = $"The library: a SQLite file (default {LibraryLocation.DefaultPath()}; $CLIPSEARCH_HOME moves it), " +
            "an Npgsql connection string (\"Host=…;Database=…\") or a postgres://user:password@host/db URL.",
    };

    public Option<bool> HalfPrecision { get; } = new("--fp16") { Description = "Keep vectors in memory as float16 (half the memory)." };

    public void AddTo(Command command, bool search = false)
    {
        command.Options.Add(Library);
        if (search)
        {
            command.Options.Add(HalfPrecision);
        }
    }

    /// <summary>Opens the library; only <c>index</c> (<paramref name="create"/>) makes a new SQLite file.</summary>
    public Task<ImageLibrary> OpenAsync(ParseResult result, CancellationToken cancellationToken, bool create = false)
    {
        var location = result.GetValue(Library);
        if (!create && !LibraryLocation.IsPostgres(location))
        {
            var path = string.IsNullOrWhiteSpace(location) ? LibraryLocation.DefaultPath() : location;
            if (!File.Exists(path) && !File.Exists(Path.Combine(path, "library.db")))
            {
                throw new Core.ClipSearchException($"There is no library at {Path.GetFullPath(path)} yet: create it with 'clipsearch index --model DIR FOLDER' (or point --library at one).");
            }
        }

        return ImageLibrary.OpenAsync(location, new LibraryOptions
        {
            Index = new Library.Search.VectorIndexOptions { HalfPrecision = result.GetValue(HalfPrecision) },
        }, cancellationToken);
    }
}
