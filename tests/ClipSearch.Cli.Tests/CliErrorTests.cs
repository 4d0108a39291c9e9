namespace ClipSearch.Cli.Tests;

/// <summary>Every bad value and unusable output path is one <c>error: …</c> line and exit code 1, never a stack trace.</summary>
public sealed class CliErrorTests
{
    private static string TinyClip => Fixtures.Path("tiny-clip");

    private static string Horse => Fixtures.Path("images", "horse.png");

    [Fact]
    public async Task Options_ValueThatDoesNotParse_IsOneErrorLineNotTheWholeHelp()
    {
        var result = await CliRunner.RunAsync("index", "-m", TinyClip, "--threads", "abc");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Cannot parse argument 'abc' for option '--threads' as expected type 'System.Int32'. (`clipsearch index --help` lists its options)", result.Stderr.Trim());
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Info_ModelIsAFileOrLacksTheVariant_TheCliNamesItsOwnFlag()
    {
        var config = Path.GetFullPath(Path.Combine(TinyClip, "config.json"));

        // Core says what is wrong (ErrorCodes.ModelFolderIsFile, ModelVariantMissing); the CLI adds which option to change.
        var file = await CliRunner.RunAsync("info", "--model", config);
        var fp16 = await CliRunner.RunAsync("info", "--model", TinyClip, "--variant", "fp16");

        Assert.Equal((1, $"error: {config} is a file; --model takes the model folder (the one holding config.json and onnx/)."), (file.ExitCode, file.Stderr.Trim()));
        Assert.Equal(1, fp16.ExitCode);
        Assert.StartsWith($"error: No fp16 model in {Path.GetFullPath(Path.Combine(TinyClip, "onnx"))}: expected ", fp16.Stderr, StringComparison.Ordinal);
        Assert.EndsWith(". Choose another --variant (fp32, quantized, fp16) or add the files.", fp16.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preprocess_OutIsAFile_IsOneErrorLine()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("taken"), "a file");

        // Before: an unhandled IOException ("The file … already exists") with its stack trace.
        var result = await CliRunner.RunAsync("preprocess", Horse, "--out", temp.File("taken"));

        Assert.Equal((1, $"error: --out {temp.File("taken")} is a file: give a folder (it is created when missing)."), (result.ExitCode, result.Stderr.Trim()));
    }

    [Theory]
    [InlineData("taken/below")]
    [InlineData("/proc/clipsearch-out")]
    public async Task Preprocess_OutCannotBeCreated_IsOneErrorLine(string relative)
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("taken"), "a file");
        var folder = Path.IsPathRooted(relative) ? relative : temp.File(relative);

        var result = await CliRunner.RunAsync("preprocess", Horse, "--out", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: --out {folder}: cannot create the folder: ", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("link")]
    public async Task Preprocess_TargetInOutIsAFifoOrALink_IsOneErrorLineAndNothingIsWrittenThroughIt(string kind)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("out"));
        var target = temp.File("out", "horse.png");
        File.WriteAllText(temp.File("victim.txt"), "keep me");
        if (kind == "fifo")
        {
            SpecialFiles.MakeFifo(target);
        }
        else
        {
            File.CreateSymbolicLink(target, "../victim.txt");
        }

        // Before: the PNG was written through it — into a FIFO, waiting for a reader forever; through the link,
        // over victim.txt.
        var result = await CliRunner.RunAsync("preprocess", Horse, "--out", temp.File("out")).WaitAsync(TimeSpan.FromSeconds(90));

        var what = kind == "fifo" ? "a named pipe (FIFO)" : "a symbolic link to ../victim.txt";
        Assert.Equal((1, $"error: Cannot write {target}: it is {what}, not a regular file; it was left as it is."), (result.ExitCode, result.Stderr.Trim()));
        Assert.Equal("keep me", File.ReadAllText(temp.File("victim.txt")));
    }

    [Fact]
    public async Task Embed_FolderWithAFifoAndALinkToDevZero_EndsWithThemAsWarnings()
    {
        using var temp = new TempFolder();
        File.Copy(Horse, temp.File("horse.png"));
        SpecialFiles.MakeFifo(temp.File("x.jpg"));
        File.CreateSymbolicLink(temp.File("zero.png"), "/dev/zero");   // listed in the folder (links are followed) and given by name

        // Before: open() on the FIFO waited for a writer forever, and /dev/zero was read until memory ran out.
        var result = await CliRunner.RunAsync("embed", "-m", TinyClip, "--image", temp.Path, "--image", temp.File("zero.png"), "--json").WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"warning: {temp.File("x.jpg")} cannot be read: it is a named pipe (FIFO), not a regular file", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"warning: {temp.File("zero.png")} cannot be read: it is a character device, not a regular file", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embed_ModelFolderWhoseGraphsAreFifos_IsOneErrorLineAtOnce()
    {
        // The model's files as links to the fixture's, but its graphs FIFOs (as a reviewer left them).
        using var model = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(TinyClip, "*", SearchOption.AllDirectories))
        {
            var target = model.File(Path.GetRelativePath(TinyClip, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.CreateSymbolicLink(target, file);
        }

        foreach (var graph in new[] { "model.onnx", "vision_model.onnx" })
        {
            File.Delete(model.File("onnx", graph));
            SpecialFiles.MakeFifo(model.File("onnx", graph));
        }

        // Before: ONNX Runtime opened the FIFO and waited for a writer until SIGINT.
        var result = await CliRunner.RunAsync("embed", "-m", model.Path, "--text", "a cat").WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            $"error: {model.File("onnx", "vision_model.onnx")} is a named pipe (FIFO), not a regular file: a model folder's files must be regular files (or links to them).",
            result.Stderr.Trim());
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task ModelDownload_DirIsAFile_IsOneErrorLineBeforeAnythingIsFetched()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("taken"), "a file");
        var environment = new Dictionary<string, string> { ["HF_ENDPOINT"] = "http://127.0.0.1:9", ["CLIPSEARCH_HOME"] = temp.File("home") };

        var result = await CliRunner.RunAsync(environment, "model", "download", "--dir", temp.File("taken"));

        Assert.Equal((1, $"error: --dir {temp.File("taken")} is a file: give a folder (it is created when missing)."), (result.ExitCode, result.Stderr.Trim()));
    }
}
