namespace ClipSearch.Cli.Tests;

public sealed class FixturesTests
{
    [Fact]
    public void Fixtures_AreFound() => Assert.True(Directory.Exists(Fixtures.Path("tiny-clip")));
}
