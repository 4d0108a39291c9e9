using System.Text.RegularExpressions;

namespace ClipSearch.Core.Tests.Errors;

/// <summary>
/// Core, Library and Hub state facts; advice in a front end's words (a CLI flag, a <c>clipsearch …</c> command) is
/// the front end's (the CLI's <c>CliErrors</c>, the web's <c>error.CODE</c> strings). This reads their sources and
/// finds none in a string literal of code (comments may describe the CLI).
/// </summary>
public sealed partial class NoCliAdviceTests
{
    private static readonly string[] _projects = ["ClipSearch.Core", "ClipSearch.Library", "ClipSearch.Hub"];

    [Fact]
    public void LowerLayers_StringLiterals_NameNoCliFlagOrCommand()
    {
        var root = RepositoryRoot();
        var found = new List<string>();
        var files = 0;
        foreach (var project in _projects)
        {
            var folder = Path.Combine(root, "src", project);
            foreach (var file in Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
                         .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
            {
                files++;
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    var code = lines[i].TrimStart();
                    if (code.StartsWith("//", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    found.AddRange(Literal().Matches(code).Select(m => m.Groups[1].Value).Where(IsCliAdvice)
                        .Select(text => $"{Path.GetRelativePath(root, file)}:{i + 1}: \"{text}\""));
                }
            }
        }

        Assert.True(files > 50, $"read only {files} files under {root}/src");
        Assert.Empty(found);
    }

    [Theory]
    [InlineData("Point --library at a library.", true)]
    [InlineData("run 'clipsearch index --reembed …'", true)]
    [InlineData("(`clipsearch model list` shows what is)", true)]
    [InlineData("-k must be at least 1", true)]
    [InlineData("Free some space, set CLIPSEARCH_HOME to another disk.", true)]
    [InlineData("CLIPSEARCH_HOME", false)]
    [InlineData("The library {Location} holds embeddings of another model.", false)]
    [InlineData("{path} is a SQLite database but not a ClipSearch library", false)]
    public void IsCliAdvice_Examples(string text, bool expected) => Assert.Equal(expected, IsCliAdvice(text));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClipSearch.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No ClipSearch.slnx above {AppContext.BaseDirectory}.");
    }

    /// <summary>A flag (<c>--name</c>, <c>-k</c>), a <c>clipsearch</c> command, or the home variable inside a sentence.</summary>
    private static bool IsCliAdvice(string text) =>
        Advice().IsMatch(text) || (text.Contains("CLIPSEARCH_HOME", StringComparison.Ordinal) && text != "CLIPSEARCH_HOME");

    // The text of a "…" literal (also $"…"), escapes included.
    [GeneratedRegex("""
        "((?:[^"\\]|\\.)*)"
        """)]
    private static partial Regex Literal();

    [GeneratedRegex(@"(^|[\s'`(])(--[a-z]|-k\b)|clipsearch [a-z]")]
    private static partial Regex Advice();
}
