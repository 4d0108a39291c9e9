namespace ClipSearch.Cli.Tests;

/// <summary>
/// Tests that measure the server's latency while it works hard run in this collection: never beside another test
/// class, whose processes would take the same cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Runs alone";
}
