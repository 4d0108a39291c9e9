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
    public async Task Serve_NoModelOption_LoadsTheInstalledDefaultModel()
    {
        // An installed default whose vision graph is broken: the start fails naming the store's folder, which
        // proves serve picked it up without --model (a good one would start serving and never exit).
        using var home = new TempFolder();
        var folder = home.File("models", "Xenova", "clip-vit-base-patch32");
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        foreach (var file in new[] { "config.json", "tokenizer.json", "onnx/text_model.onnx" })
        {
            File.Copy(Fixtures.Path("tiny-clip", file), Path.Combine(folder, file));
        }

        File.WriteAllText(Path.Combine(folder, "onnx", "vision_model.onnx"), "not an onnx graph");

        var result = await CliRunner.RunAsync(new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = home.Path }, "serve", "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("vision_model.onnx", result.Stderr);
        Assert.Contains(folder, result.Stderr);
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
