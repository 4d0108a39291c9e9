using System.CommandLine;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Hub;

namespace ClipSearch.Cli.Commands;

/// <summary>Options shared by the commands that load a model.</summary>
internal sealed class ModelArguments
{
    public Option<DirectoryInfo> Model { get; } = new("--model", "-m")
    {
        Description = "Model folder in the Hugging Face / Xenova layout (config.json, tokenizer files, onnx/); default: the model installed by `clipsearch model download`.",
    };

    /// <summary>What to say when --model is left out and no model is installed.</summary>
    public const string NoModelMessage = "No model given and none installed: run `clipsearch model download` (or pass --model DIR)";

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

    /// <summary>
    /// The store's default model (<see cref="ModelStore.DefaultModel"/>) and the variant to run: <paramref name="variant"/>,
    /// or, when it was not given and is not installed, the first installed one; null when no model is installed.
    /// </summary>
    public static (string Directory, ModelVariant Variant)? InstalledDefault(ModelVariant variant, bool variantGiven)
    {
        if (ModelStore.FromEnvironment().DefaultModel is not { } installed)
        {
            return null;
        }

        // Only some variant was downloaded (say quantized): use it rather than fail on the fp32 default.
        return (installed.Directory, !variantGiven && !installed.Variants.Contains(variant) ? installed.Variants[0] : variant);
    }

    /// <summary>
    /// Checks --threads and --batch-size against the limits every front end applies (<see cref="Limits"/>), so that
    /// a command refuses them before it does anything (opens or creates a library, reads images).
    /// </summary>
    public void Validate(ParseResult result)
    {
        Limits.CheckThreads(result.GetValue(Threads));
        Limits.CheckBatchSize(result.GetValue(BatchSize));
    }

    public ClipModel Load(ParseResult result, Encoders encoders = Encoders.Both)
    {
        Validate(result);
        var layout = result.GetValue(Layout)?.ToLowerInvariant() switch
        {
            "split" => ModelLayout.Split,
            "combined" => ModelLayout.Combined,
            "auto" or null => ModelLayout.Auto,
            var other => throw new ClipSearchException($"Unknown --layout '{other}': use auto, split or combined."),
        };
        var variant = ModelVariants.Parse(result.GetValue(Variant) ?? "fp32");
        var directory = result.GetValue(Model)?.FullName;
        if (directory is null)
        {
            (directory, variant) = InstalledDefault(variant, result.GetResult(Variant) is { Implicit: false })
                ?? throw new ClipSearchException(NoModelMessage);
        }

        var options = new ModelOptions
        {
            Variant = variant,
            Threads = result.GetValue(Threads),
            BatchSize = result.GetValue(BatchSize),
            Layout = layout,
            Encoders = encoders,
        };
        return ClipModel.Load(directory, options);
    }
}
