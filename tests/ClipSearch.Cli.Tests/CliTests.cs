using System.Text.Json;

namespace ClipSearch.Cli.Tests;

public sealed class CliTests
{
    private static string TinyClip => Fixtures.Path("tiny-clip");

    [Fact]
    public async Task Help_ListsTheCommands()
    {
        var result = await CliRunner.RunAsync("--help");
        Assert.Equal(0, result.ExitCode);
        // The first word of each entry under "Commands:" (up to the blank line; wrapped descriptions are indented deeper).
        var listed = result.Stdout.ReplaceLineEndings("\n").Split('\n')
            .SkipWhile(line => line.Trim() != "Commands:").Skip(1)
            .TakeWhile(line => line.Trim().Length > 0)
            .Where(line => line.StartsWith("  ", StringComparison.Ordinal) && !char.IsWhiteSpace(line[2]))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
        Assert.Equal(["tokenize", "preprocess", "embed", "match", "info", "model", "serve", "index", "search", "duplicates", "library", "presets"], listed);
    }

    [Theory]
    [InlineData("index", "100", "at least 763, what one 100-megapixel image needs")]
    [InlineData("serve", "762", "at least 763, what one 100-megapixel image needs")]
    public async Task DecodeBudget_BelowOneMaximalImage_IsOneErrorLine(string command, string megabytes, string message)
    {
        using var temp = new TempFolder();
        string[] args = command == "index"
            ? ["index", "--model", TinyClip, "--library", temp.File("library.db"), "--decode-budget-mb", megabytes, temp.Path]
            : ["serve", "--model", TinyClip, "--urls", "http://127.0.0.1:0", "--decode-budget-mb", megabytes];
        var result = await CliRunner.RunAsync(args);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --decode-budget-mb must be " + message, result.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokenize_Json_GivesUnpaddedIds()
    {
        var result = await CliRunner.RunAsync("tokenize", "--json", "Hello World!", "a photo of a cat");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var first = json.RootElement[0];
        Assert.Equal("Hello World!", first.GetProperty("text").GetString());
        Assert.Equal([49406, 3306, 1002, 256, 49407], first.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, json.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Embed_Json_HasTheDocumentedShapeAndUnitVectors()
    {
        var result = await CliRunner.RunAsync("embed", "--model", TinyClip, "--image", Fixtures.Path("images", "chelsea.png"),
            "--text", "a photo of a cat", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var image = Assert.Single(json.RootElement.GetProperty("images").EnumerateArray());
        Assert.EndsWith("chelsea.png", image.GetProperty("path").GetString());
        var text = Assert.Single(json.RootElement.GetProperty("texts").EnumerateArray());
        Assert.Equal("a photo of a cat", text.GetProperty("text").GetString());
        foreach (var embedding in new[] { image.GetProperty("embedding"), text.GetProperty("embedding") })
        {
            var values = embedding.EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(16, values.Length);
            Assert.Equal(1.0, Math.Sqrt(values.Sum(v => (double)v * v)), 4);
        }
    }

    [Fact]
    public async Task Embed_FolderWithABadFile_EmbedsTheRestAndNamesTheBadOne()
    {
        var folder = Path.Combine(Path.GetTempPath(), "clipsearch-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(folder, "horse.png"));
            await File.WriteAllTextAsync(Path.Combine(folder, "notes.jpg"), "not an image");
            await File.WriteAllBytesAsync(Path.Combine(folder, "empty.png"), []);
            var result = await CliRunner.RunAsync("embed", "--model", TinyClip, "--image", folder, "--json");
            Assert.Equal(3, result.ExitCode);
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.EndsWith("horse.png", Assert.Single(json.RootElement.GetProperty("images").EnumerateArray()).GetProperty("path").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("errors").GetArrayLength());
            Assert.Contains("notes.jpg", result.Stderr);
            Assert.Contains("empty.png", result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Match_Json_LogitsAndProbabilitiesMatchPyTorch()
    {
        // The reference: transformers' logits_per_image for the fixture images × texts (tiny_clip_outputs.json).
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tiny_clip_outputs.json")));
        var images = reference.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToList();
        var texts = reference.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToList();
        var referenceLogits = reference.RootElement.GetProperty("logits_per_image");
        string[] chosenImages = ["chelsea.png", "coffee.png"];
        int[] chosenTexts = [1, 3, 6];
        var result = await CliRunner.RunAsync(["match", "--model", TinyClip,
            .. chosenImages.SelectMany(i => new[] { "--image", Fixtures.Path("images", i) }),
            .. chosenTexts.SelectMany(t => new[] { "--text", texts[t] }), "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(2, root.GetProperty("images").GetArrayLength());
        Assert.Equal(3, root.GetProperty("texts").GetArrayLength());
        var scale = root.GetProperty("logit_scale").GetSingle();
        for (var i = 0; i < chosenImages.Length; i++)
        {
            var cosine = root.GetProperty("cosine")[i].EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var logits = root.GetProperty("logits")[i].EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var probs = root.GetProperty("probs")[i].EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var expected = chosenTexts.Select(t => referenceLogits[images.IndexOf(chosenImages[i])][t].GetDouble()).ToArray();
            var expectedProbs = expected.Select(l => Math.Exp(l - expected.Max())).ToArray();
            for (var t = 0; t < chosenTexts.Length; t++)
            {
                // 0.02 on logits (cosine × 100): ONNX Runtime vs PyTorch float32, as the core's own test allows.
                Assert.True(Math.Abs(expected[t] - logits[t]) <= 0.02, $"{chosenImages[i]} × text {chosenTexts[t]}: logit {logits[t]}, PyTorch {expected[t]}");
                Assert.Equal(cosine[t] * scale, logits[t], 3);
                Assert.Equal(expectedProbs[t] / expectedProbs.Sum(), probs[t], 3);
            }
        }
    }

    [Fact]
    public async Task Info_Json_ReportsTheTinyModel()
    {
        var result = await CliRunner.RunAsync("info", "--model", TinyClip, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(16, root.GetProperty("projection_dim").GetInt32());
        Assert.Equal(2, root.GetProperty("vision").GetProperty("layers").GetInt32());
        Assert.Equal("fp32", root.GetProperty("variant").GetString());
        Assert.True(root.GetProperty("parameters").GetProperty("total").GetInt64() > 1_500_000);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("onnx_runtime_version").GetString()));
    }

    [Fact]
    public async Task Info_Table_IsReadable()
    {
        var result = await CliRunner.RunAsync("info", "--model", TinyClip);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("projection", result.Stdout);
        Assert.Contains("onnx/text_model.onnx", result.Stdout);
    }

    [Fact]
    public async Task Preprocess_WritesTheReferenceCrop()
    {
        var folder = Path.Combine(Path.GetTempPath(), "clipsearch-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = await CliRunner.RunAsync("preprocess", Fixtures.Path("images", "astronaut.png"), "--out", folder);
            Assert.True(result.ExitCode == 0, result.Stderr);
            var written = Path.Combine(folder, "astronaut.png");
            Assert.True(File.Exists(written));
            using var expected = SkiaSharp.SKBitmap.Decode(Fixtures.Path("crops224", "astronaut.png"));
            using var actual = SkiaSharp.SKBitmap.Decode(written);
            Assert.Equal(224, actual.Width);
            Assert.Equal(224, actual.Height);
            var worst = 0;
            for (var y = 0; y < 224; y += 7)
            {
                for (var x = 0; x < 224; x += 7)
                {
                    var (e, a) = (expected.GetPixel(x, y), actual.GetPixel(x, y));
                    worst = Math.Max(worst, Math.Max(Math.Abs(e.Red - a.Red), Math.Max(Math.Abs(e.Green - a.Green), Math.Abs(e.Blue - a.Blue))));
                }
            }

            Assert.True(worst <= 1, $"max difference {worst} levels");
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task MissingModel_IsOneClearLine()
    {
        var result = await CliRunner.RunAsync("embed", "--model", "/nonexistent/clip", "--text", "x");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: Model folder /nonexistent/clip does not exist", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Embed_NothingToDo_SaysWhatToGive()
    {
        var result = await CliRunner.RunAsync("embed", "--model", TinyClip);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Nothing to embed", result.Stderr);
    }
}
