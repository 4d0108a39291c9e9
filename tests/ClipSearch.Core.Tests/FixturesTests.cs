namespace ClipSearch.Core.Tests;

public sealed class FixturesTests
{
    [Fact]
    public void Fixtures_AreFound() => Assert.True(File.Exists(Fixtures.Path("tokenizer_cases.json")));
}
