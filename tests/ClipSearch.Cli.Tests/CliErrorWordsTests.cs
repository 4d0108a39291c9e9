using System.Reflection;
using ClipSearch.Core;
using ClipSearch.Hub;

namespace ClipSearch.Cli.Tests;

/// <summary>The CLI's table of words for the lower layers' errors (<see cref="CliErrors"/>).</summary>
public sealed class CliErrorWordsTests
{
    /// <summary>Every code of <see cref="ErrorCodes"/>, read from its constants.</summary>
    public static TheoryData<string> Codes() => [.. AllCodes()];

    private static string[] AllCodes() =>
        [.. typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    [Theory]
    [MemberData(nameof(Codes))]
    public void EveryLowerLayerCode_HasAnEntry(string code) => Assert.Contains(code, CliErrors.Codes);

    [Fact]
    public void Codes_AreDistinct() => Assert.Equal(AllCodes().Length, AllCodes().Distinct(StringComparer.Ordinal).Count());

    public static TheoryData<ClipSearchException, string> Words() => new()
    {
        { new ModelLoadException(ErrorCodes.ModelFolderIsFile, "/m/config.json is a file, not a model folder (…).", ["/m/config.json"]),
            "/m/config.json is a file; --model takes the model folder (the one holding config.json and onnx/)." },
        { new ModelLoadException(ErrorCodes.ModelVariantMissing, "No fp16 model in /m/onnx: expected … It holds: a.onnx.", ["/m/onnx", "fp16", "a.onnx"]),
            "No fp16 model in /m/onnx: expected … It holds: a.onnx. Choose another --variant (fp32, quantized, fp16) or add the files." },
        { new ClipSearchException(ErrorCodes.LibraryModelMismatch, "The library /l.db holds embeddings of another model (a); this model is b.", ["/l.db", "a", "b"]),
            "The library /l.db holds embeddings of another model (a); this model is b. Use the model the library was built with, or run 'clipsearch index --reembed …' to embed every image again with this one." },
        { new ClipSearchException(ErrorCodes.SearchNothing, "Nothing to search for: no query and no image."), "Nothing to search for: give a query and/or --image PATH." },
        { new ClipSearchException(ErrorCodes.SearchBadCount, "The number of results must be at least 1 (got 0).", [0]), "-k must be at least 1 (got 0)." },
        { new ClipSearchException(ErrorCodes.LibraryBadConnectionString, "Not a PostgreSQL connection string (bad key).", ["bad key"]),
            "--library: not a PostgreSQL connection string (bad key)." },
        { new ClipSearchException(ErrorCodes.LibraryBadPostgresUrl, "'postgres://' is not a postgres://user:password@host:port/database URL.", ["postgres://"]),
            "--library: 'postgres://' is not a postgres://user:password@host:port/database URL." },
        { new HubException(HubFailure.NotFound, ErrorCodes.HubRepositoryNotFound, "There is no repository a/b on the Hub (404).", ["a/b"]),
            "There is no repository a/b on the Hub (404): check --repo." },
        { new HubException(HubFailure.NotFound, ErrorCodes.HubVariantMissing, "a/b has no fp16 ONNX files at revision main (…).", ["a/b", "fp16", "main"]).WithHint("To install it by hand: …"),
            "a/b has no fp16 ONNX files at revision main (…). Choose another --variant.\nTo install it by hand: …\nPass --model FOLDER to use a folder outside the model store." },
        { new HubException(HubFailure.Unreachable, "Cannot reach the Hugging Face Hub: refused.").WithHint("To install it by hand: …"),
            "Cannot reach the Hugging Face Hub: refused.\nTo install it by hand: …\nPass --model FOLDER to use a folder outside the model store." },
        { new ClipSearchException("There is no library at /x yet."), "There is no library at /x yet." },
    };

    [Theory]
    [MemberData(nameof(Words))]
    public void Describe_AddsTheCliAdvice(ClipSearchException error, string expected) => Assert.Equal(expected, CliErrors.Describe(error));
}
