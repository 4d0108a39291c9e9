namespace ClipSearch.Cli.Tests;

/// <summary><c>clipsearch serve</c> refuses bad starts with one line (the server itself is tested in ClipSearch.Web.Tests).</summary>
public sealed class ServeTests
{
    [Fact]
    public async Task Serve_AnyAddressWithoutToken_FailsWithOneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--urls", "http://0.0.0.0:0", "--token", "");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: Listening on http://0.0.0.0:0 (not loopback) needs an access token", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Serve_MissingModel_FailsWithOneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--model", "/no/such/model", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("/no/such/model", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Help_ListsServe()
    {
        var result = await CliRunner.RunAsync("serve", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--token", result.Stdout);
        Assert.Contains("127.0.0.1:8766", result.Stdout);
    }
}
