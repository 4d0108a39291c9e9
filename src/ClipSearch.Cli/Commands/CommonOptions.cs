using System.CommandLine;
using ClipSearch.Core.Model;

namespace ClipSearch.Cli.Commands;

/// <summary>Options shared by the commands that load a model.</summary>
internal sealed class ModelArguments
{
    public Option<DirectoryInfo> Model { get; } = new("--model", "-m")
    {
        Description = "Model folder in the Hugging Face / Xenova layout (config.json, tokenizer files, onnx/).",
        Required = true,
    };

    public Option<string> Variant { get; } = new("--variant")
    {
        Description = "Weights to run: fp32, quantized or fp16.",
        DefaultValueFactory = _ => "fp32",
    };

    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "ONNX Runtime threads (default: one per core).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public Option<int> BatchSize { get; } = new("--batch-size")
    {
        Description = "Images or texts per inference call.",
        DefaultValueFactory = _ => 16,
    };

    public Option<string> Layout { get; } = new("--layout")
    {
        Description = "ONNX layout to use when a folder has both: auto (split first), split or combined.",
        DefaultValueFactory = _ => "auto",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Variant);
        command.Options.Add(Threads);
        command.Options.Add(BatchSize);
        command.Options.Add(Layout);
    }

    public ClipModel Load(ParseResult result, Encoders encoders = Encoders.Both)
    {
        var layout = result.GetValue(Layout)?.ToLowerInvariant() switch
        {
            "split" => ModelLayout.Split,
            "combined" => ModelLayout.Combined,
            "auto" or null => ModelLayout.Auto,
            var other => throw new Core.ClipSearchException($"Unknown --layout '{other}': use auto, split or combined."),
        };
        var options = new ModelOptions
        {
            Variant = ModelVariants.Parse(result.GetValue(Variant) ?? "fp32"),
            Threads = result.GetValue(Threads),
            BatchSize = result.GetValue(BatchSize),
            Layout = layout,
            Encoders = encoders,
        };
        return ClipModel.Load(result.GetRequiredValue(Model).FullName, options);
    }
}
