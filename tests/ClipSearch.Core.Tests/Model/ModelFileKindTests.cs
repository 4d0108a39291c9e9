using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tests.Model;

/// <summary>
/// A model folder whose files are FIFOs or links to devices: the load fails at once, naming the file and what it is.
/// Before, plain .NET I/O and ONNX Runtime opened them: a FIFO waited for a writer forever (<c>embed</c> hung until
/// Ctrl-C), <c>/dev/zero</c> was read until memory ran out.
/// </summary>
public sealed class ModelFileKindTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Each kind of file a load reads, and how to make the folder read it.</summary>
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in new[]
        {
            "config.json", "preprocessor_config.json", "vocab.json", "merges.txt", "tokenizer.json", "model.safetensors",
            "onnx/text_model.onnx", "onnx/vision_model.onnx", "onnx/model.onnx", "onnx/text_model.onnx_data",
        })
        {
            data.Add(file, "fifo");
            data.Add(file, "/dev/zero");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Load_ModelFileThatIsAFifoOrALinkToADevice_FailsAtOnceNamingIt(string file, string replacement)
    {
        using var folder = LinkedCopyOf(TinyClipReference.TinyClip);
        var options = new ModelOptions();
        switch (file)
        {
            case "tokenizer.json":
                File.Delete(folder.File("vocab.json"));   // read only when vocab.json + merges.txt are not both there
                break;
            case "onnx/model.onnx":
                options = new ModelOptions { Layout = ModelLayout.Combined };
                break;
            case "onnx/text_model.onnx_data":
                File.Delete(folder.File("onnx", "text_model.onnx"));
                File.WriteAllBytes(folder.File("onnx", "text_model.onnx"), OnnxFileInspectorTests.ModelWithExternalWeights("text_model.onnx_data"));
                break;
        }

        var path = folder.File(file);
        File.Delete(path);
        if (replacement == "fifo")
        {
            SpecialFiles.MakeFifo(path);
        }
        else
        {
            File.CreateSymbolicLink(path, replacement);
        }

        var e = await Bounded(() => ClipModel.Load(folder.Path, options));

        var what = replacement == "fifo" ? "is a named pipe (FIFO)" : "is a symbolic link to /dev/zero, which is a character device";
        Assert.Equal($"{path} {what}, not a regular file: a model folder's files must be regular files (or links to them).", e.Message);
    }

    [Fact]
    public void Load_OnnxFileOverTwoGigabytes_IsRefusedBeforeReading()
    {
        using var folder = LinkedCopyOf(TinyClipReference.TinyClip);
        var path = folder.File("onnx", "vision_model.onnx");
        File.Delete(path);
        using (var sparse = File.Create(path))
        {
            sparse.SetLength(2_500_000_000);   // sparse: takes no space
        }

        var e = Assert.Throws<ModelLoadException>(() => ClipModel.Load(folder.Path));

        Assert.StartsWith($"{path} is 2.5 GB, over the 2 GB one ONNX file can hold", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigReaders_FifoGivenDirectly_AreRefusedAtOnce()
    {
        // The readers a front end may call on their own (preprocess --model, tokenize --model) refuse it too.
        using var temp = new TempFolder();
        SpecialFiles.MakeFifo(temp.File("config.json"));
        SpecialFiles.MakeFifo(temp.File("preprocessor_config.json"));
        SpecialFiles.MakeFifo(temp.File("tokenizer.json"));

        var config = await Bounded(() => ModelConfig.FromFile(temp.File("config.json")));
        var preprocess = await Bounded(() => Core.Imaging.PreprocessConfig.FromFile(temp.File("preprocessor_config.json")));
        var tokenizer = await Bounded(() => Core.Tokenization.ClipTokenizer.FromFolder(temp.Path));

        Assert.Equal($"{temp.File("config.json")} cannot be read: it is a named pipe (FIFO), not a regular file", config.Message);
        Assert.Equal($"{temp.File("preprocessor_config.json")} cannot be read: it is a named pipe (FIFO), not a regular file", preprocess.Message);
        Assert.Equal($"The tokenizer file '{temp.File("tokenizer.json")}' cannot be read: it is a named pipe (FIFO), not a regular file", tokenizer.Message);
    }

    [Fact]
    public async Task Identity_OnnxFileReplacedByAFifoAfterTheLoad_FailsAtOnceNamingIt()
    {
        using var folder = LinkedCopyOf(TinyClipReference.TinyClip);
        using var model = ClipModel.Load(folder.Path);
        var path = folder.File("onnx", "vision_model.onnx");
        File.Delete(path);
        SpecialFiles.MakeFifo(path);

        // Hashed when a library is opened with the model: File.OpenRead waited for a writer.
        var e = await Bounded(() => ModelIdentity.Of(model));

        Assert.Equal($"{path} cannot be read: it is a named pipe (FIFO), not a regular file", e.Message);
    }

    [Fact]
    public void Identity_IsTheSameAsBeforeItWasReadThroughRegularFile()
    {
        // Libraries record the hash: reading the files another way must not change it.
        using var model = ClipModel.Load(TinyClipReference.TinyClip);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in model.Folder.OnnxFiles)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
        }

        Assert.Equal(Convert.ToHexStringLower(sha.GetHashAndReset()), ModelIdentity.Of(model).Hash);
    }

    /// <summary>The <see cref="ModelLoadException"/> <paramref name="call"/> throws, within <see cref="Bound"/> (hanging is the failure).</summary>
    private static Task<ModelLoadException> Bounded<T>(Func<T> call) =>
        Assert.ThrowsAsync<ModelLoadException>(() => Task.Run(call).WaitAsync(Bound));

    /// <summary>A folder of symbolic links to <paramref name="source"/>'s files (cheaper than copying the weights), with real subfolders.</summary>
    private static TempFolder LinkedCopyOf(string source)
    {
        var temp = new TempFolder();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = temp.File(Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.CreateSymbolicLink(target, file);
        }

        return temp;
    }
}
