using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Hub;

namespace ClipSearch.Cli;

/// <summary>
/// The CLI's words for the errors of Core, Library and Hub: one entry per <see cref="ErrorCodes"/> code (a test
/// checks that none is missing), most the message as it is, some with the CLI's own flags as advice. The lower
/// layers say what is wrong; only here is it said which option to change.
/// </summary>
internal static class CliErrors
{
    private static readonly Dictionary<string, Func<ClipSearchException, string>> _words = new(StringComparer.Ordinal)
    {
        [ErrorCodes.Other] = AsIs,
        [ErrorCodes.ModelLoad] = AsIs,
        [ErrorCodes.NotImage] = AsIs,
        [ErrorCodes.ModelFolderIsFile] = e => $"{e.Arguments[0]} is a file; --model takes the model folder (the one holding config.json and onnx/).",
        [ErrorCodes.ModelVariantMissing] = Then("Choose another --variant (fp32, quantized, fp16) or add the files."),
        [ErrorCodes.LibraryModelMismatch] = Then("Use the model the library was built with, or run 'clipsearch index --reembed …' to embed every image again with this one."),
        [ErrorCodes.LibraryIndexing] = Then("Wait for the run to end, or stop it (Ctrl-C where `clipsearch index` runs, Stop on the server's Library tab)."),
        [ErrorCodes.NoHome] = Then($"Set {ClipSearchHome.Variable} to a folder (models go to its models/)."),
        [ErrorCodes.SearchNothing] = _ => "Nothing to search for: give a query and/or --image PATH.",
        [ErrorCodes.SearchBadCount] = e => Format("-k must be at least 1 (got {0}).", e),
        [ErrorCodes.DuplicatesBadThreshold] = e => Format("--threshold must be in (0, 1] (got {0}).", e),
        [ErrorCodes.LibraryNotLibrary] = Then("Point --library at a library, or at a new file."),
        [ErrorCodes.LibraryUnfinishedChanges] = Then(
            "If it is a ClipSearch library, open it once with the program that wrote it (or sqlite3) to finish those changes; otherwise point --library at a library, or at a new file."),
        [ErrorCodes.LibraryBadConnectionString] = e => Format("--library: not a PostgreSQL connection string ({0}).", e),
        [ErrorCodes.LibraryBadPostgresUrl] = e => $"--library: {Fact(e)}",
        [ErrorCodes.ModelNotInstalled] = e => Format("{0} is not installed in {1} (`clipsearch model list` shows what is).", e),
        [ErrorCodes.DiskFull] = Then($"Free some space, set {ClipSearchHome.Variable} to another disk, or pass --dir."),
        [ErrorCodes.HubUnreachable] = AsIs,
        [ErrorCodes.HubUnauthorized] = AsIs,
        [ErrorCodes.HubNotFound] = AsIs,
        [ErrorCodes.HubServer] = AsIs,
        [ErrorCodes.HubVerification] = AsIs,
        [ErrorCodes.HubLoad] = AsIs,
        [ErrorCodes.HubRepositoryNotFound] = e => Format("There is no repository {0} on the Hub (404): check --repo.", e),
        [ErrorCodes.HubVariantMissing] = Then("Choose another --variant."),
        [ErrorCodes.FilterBadDate] = e => Format("--from and --to take YYYY-MM-DD, YYYY-MM or YYYY (got '{0}').", e),
        [ErrorCodes.FilterBadType] = e => Format("--type: '{0}' is not an image type; the types: {1}.", e),
        [ErrorCodes.FilterBadRange] = AsIs,
        [ErrorCodes.SortUnknown] = e => Format("--sort takes relevance or date (got '{0}').", e),
    };

    /// <summary>The CLI's line after a download's hint: how to use a model folder installed by hand elsewhere.</summary>
    public const string OwnFolder = "Pass --model FOLDER to use a folder outside the model store.";

    /// <summary>The codes this table words (every one of <see cref="ErrorCodes"/>).</summary>
    public static IReadOnlyCollection<string> Codes => _words.Keys;

    /// <summary>
    /// What the CLI says for <paramref name="error"/> after <c>error: </c>: its entry's words (the message as it is
    /// for a code this table does not know, such as the CLI's own), then a download's <see cref="HubException.Hint"/>
    /// on the next line, with the flag that points at a model folder of one's own.
    /// </summary>
    public static string Describe(ClipSearchException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var words = _words.TryGetValue(error.Code, out var word) ? word(error) : Fact(error);
        return error is HubException { Hint: { } hint } ? $"{words}\n{hint}\n{OwnFolder}" : words;
    }

    /// <summary>The message, without a download's hint (<see cref="Describe"/> adds it after the words).</summary>
    private static string Fact(ClipSearchException error) => error is HubException hub ? hub.Fact : error.Message;

    private static string AsIs(ClipSearchException error) => Fact(error);

    /// <summary>The fact, then <paramref name="advice"/>.</summary>
    private static Func<ClipSearchException, string> Then(string advice) => e => $"{Fact(e)} {advice}";

    private static string Format(string template, ClipSearchException error) =>
        string.Format(CultureInfo.InvariantCulture, template, [.. error.Arguments]);
}
