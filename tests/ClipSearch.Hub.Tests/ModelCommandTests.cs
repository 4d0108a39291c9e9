using System.Text.Json;
using ClipSearch.Core.Model;

namespace ClipSearch.Hub.Tests;

/// <summary><c>clipsearch model …</c> and <c>--model</c> left out, through the CLI as a child process.</summary>
public sealed class ModelCommandTests
{
    [Fact]
    public async Task DownloadListEmbedRemove_WorkWithoutModelOption()
    {
        await using var context = await HubTestContext.StartAsync();
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = context.Hub.Endpoint, ["CLIPSEARCH_HOME"] = context.Home.Path };

        var download = await CliRunner.RunAsync(env, "model", "download");
        Assert.True(download.ExitCode == 0, download.Stderr);
        Assert.Contains("onnx/text_model.onnx", download.Stderr);
        Assert.Contains("Commands use it when --model is left out.", download.Stdout);

        var list = await CliRunner.RunAsync(env, "model", "list", "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        using (var json = JsonDocument.Parse(list.Stdout))
        {
            var model = Assert.Single(json.RootElement.GetProperty("models").EnumerateArray());
            Assert.Equal("Xenova/clip-vit-base-patch32", model.GetProperty("repo").GetString());
            Assert.Equal(["fp32"], model.GetProperty("variants").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal(context.ModelDirectory, json.RootElement.GetProperty("default").GetString());
            Assert.True(model.GetProperty("bytes").GetInt64() > 7_000_000);
        }

        var embed = await CliRunner.RunAsync(env, "embed", "--text", "a photo of a cat", "--json");
        Assert.True(embed.ExitCode == 0, embed.Stderr);
        using (var json = JsonDocument.Parse(embed.Stdout))
        {
            var actual = json.RootElement.GetProperty("texts")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            using var fixture = ClipModel.Load(HubTestContext.TinyClip, new ModelOptions { Threads = 1 });
            var expected = fixture.EmbedText("a photo of a cat");
            Assert.All(expected.Zip(actual), pair => Assert.Equal(pair.First, pair.Second, 1e-6));
        }

        var remove = await CliRunner.RunAsync(env, "model", "remove", "Xenova/clip-vit-base-patch32", "--yes");
        Assert.True(remove.ExitCode == 0, remove.Stderr);
        Assert.StartsWith("removed Xenova/clip-vit-base-patch32", remove.Stdout);
        Assert.False(Directory.Exists(context.ModelDirectory));

        var none = await CliRunner.RunAsync(env, "embed", "--text", "a photo of a cat");
        Assert.Equal(1, none.ExitCode);
        Assert.Equal("error: No model given and none installed: run `clipsearch model download` (or pass --model DIR)", none.Stderr.Trim());
    }

    [Fact]
    public async Task Download_QuantizedOnly_IsUsedWithoutVariantOption()
    {
        await using var context = await HubTestContext.StartAsync();
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = context.Hub.Endpoint, ["CLIPSEARCH_HOME"] = context.Home.Path };

        var download = await CliRunner.RunAsync(env, "model", "download", "--variant", "quantized");
        Assert.True(download.ExitCode == 0, download.Stderr);

        var info = await CliRunner.RunAsync(env, "info", "--json");
        Assert.True(info.ExitCode == 0, info.Stderr);
        using var json = JsonDocument.Parse(info.Stdout);
        Assert.Equal("quantized", json.RootElement.GetProperty("variant").GetString());
    }

    [Fact]
    public async Task Download_NoEndpoint_IsOneClearMessageWithoutStackTrace()
    {
        using var home = new TempFolder();
        var env = new Dictionary<string, string> { ["HF_ENDPOINT"] = "http://127.0.0.1:1", ["CLIPSEARCH_HOME"] = home.Path };

        var result = await CliRunner.RunAsync(env, "model", "download");

        Assert.Equal(1, result.ExitCode);
        // Progress lines may come first; the error is one message at the end.
        var error = result.Stderr[result.Stderr.IndexOf("error: ", StringComparison.Ordinal)..];
        Assert.StartsWith("error: Cannot reach the Hugging Face Hub: 127.0.0.1:1 refused the connection.", error);
        Assert.Contains("To install it by hand", result.Stderr);
        Assert.Contains("Pass --model FOLDER to use a folder outside the model store.", result.Stderr);   // the CLI's own advice, after the Hub's hint
        Assert.Contains(Path.Combine(home.Path, "models", "Xenova", "clip-vit-base-patch32"), result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Download_HfTokenFromTheEnvironment_IsSentAsBearer()
    {
        await using var context = await HubTestContext.StartAsync();
        context.Hub.RequiredToken = "hf_from_env";
        var env = new Dictionary<string, string>
        {
            ["HF_ENDPOINT"] = context.Hub.Endpoint, ["HF_TOKEN"] = "hf_from_env", ["CLIPSEARCH_HOME"] = context.Home.Path,
        };

        var result = await CliRunner.RunAsync(env, "model", "download");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains(context.Hub.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal) && r.Authorization == "Bearer hf_from_env");
    }

    [Fact]
    public async Task Remove_WithoutYesAndNoTerminal_AsksForYes()
    {
        await using var context = await HubTestContext.StartAsync();
        await context.DownloadAsync();
        var env = new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = context.Home.Path };

        var result = await CliRunner.RunAsync(env, "model", "remove", "Xenova/clip-vit-base-patch32");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("pass --yes", result.Stderr);
        Assert.True(Directory.Exists(context.ModelDirectory));
    }

    [Fact]
    public async Task List_Empty_SaysHowToDownload()
    {
        using var home = new TempFolder();
        var result = await CliRunner.RunAsync(new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = home.Path }, "model", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("run `clipsearch model download`", result.Stdout);
    }
}
