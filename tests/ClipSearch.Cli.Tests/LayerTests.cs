using System.Reflection;

namespace ClipSearch.Cli.Tests;

/// <summary>
/// The layers of ARCHITECTURE.md, checked on the built assemblies: Core knows nothing of HTTP, SQL or the console;
/// the Library and the Hub nothing of HTTP or the console; only the front ends (CLI, web) choose words for people.
/// </summary>
public sealed class LayerTests
{
    public static TheoryData<string, string[], string[]> Layers => new()
    {
        { "ClipSearch.Core", [], ["ClipSearch.", "Microsoft.AspNetCore", "Microsoft.Data.Sqlite", "Npgsql", "System.CommandLine", "Spectre.Console"] },
        { "ClipSearch.Hub", ["ClipSearch.Core"], ["ClipSearch.Library", "ClipSearch.Web", "Microsoft.AspNetCore", "System.CommandLine", "Spectre.Console"] },
        { "ClipSearch.Library", ["ClipSearch.Core"], ["ClipSearch.Hub", "ClipSearch.Web", "Microsoft.AspNetCore", "System.CommandLine", "Spectre.Console"] },
        { "ClipSearch.Web", ["ClipSearch.Core", "ClipSearch.Library", "ClipSearch.Hub"], ["System.CommandLine", "Spectre.Console"] },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Assembly_ReferencesOnlyWhatItsLayerMay(string assembly, string[] mayUse, string[] mustNotUse)
    {
        var references = Assembly.Load(assembly).GetReferencedAssemblies().Select(a => a.Name!).ToList();
        var ours = references.Where(r => r.StartsWith("ClipSearch.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.All(ours, r => Assert.Contains(r, mayUse));
        var forbidden = references.Where(r => mustNotUse.Any(f => r.StartsWith(f, StringComparison.Ordinal)) && !mayUse.Contains(r)).ToList();
        Assert.True(forbidden.Count == 0, $"{assembly} references {string.Join(", ", forbidden)}");
    }

    [Fact]
    public void Cli_UsesEveryLayer()
    {
        // The check above is only as good as the assemblies it sees: the CLI must actually reference them all.
        var references = typeof(CliApp).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToHashSet();
        Assert.Superset(new HashSet<string?> { "ClipSearch.Core", "ClipSearch.Hub", "ClipSearch.Library", "ClipSearch.Web" }, references);
    }
}
