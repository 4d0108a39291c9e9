using System.CommandLine;
using System.Globalization;
using ClipSearch.Core.Model;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch info --model DIR [--json]</c>: architecture, files, parameters, runtime, signatures.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var json = new Option<bool>("--json") { Description = "Print the description as JSON." };
        var command = new Command("info", "Describe a model: layers, widths, heads, sizes, parameters, files, ONNX Runtime, signatures.") { json };
        model.AddTo(command);
        command.SetAction(result =>
        {
            using var clip = model.Load(result);
            var info = ModelInfo.Of(clip);
            if (result.GetValue(json))
            {
                Output.Json(info);
            }
            else
            {
                Write(info);
            }

            return CliApp.Ok;
        });
        return command;
    }

    private static void Write(ModelInfo info)
    {
        var console = Output.Stdout;
        var c = CultureInfo.InvariantCulture;
        var model = new Table().Title("model").HideHeaders().AddColumns("", "");
        model.AddRow("folder", Markup.Escape(info.Directory));
        model.AddRow("variant / layout", $"{info.Variant} / {info.Layout}");
        model.AddRow("embedding (projection) dim", info.ProjectionDim.ToString(c));
        model.AddRow("image size / patch", $"{info.ImageSize} px / {info.PatchSize} px ({info.ImageSize / info.PatchSize}×{info.ImageSize / info.PatchSize} patches)");
        model.AddRow("context length / vocabulary", $"{info.ContextLength} tokens / {info.VocabularySize:N0}");
        model.AddRow("logit scale", $"{info.LogitScale.ToString("G6", c)} ({Markup.Escape(info.LogitScaleSource)})");
        model.AddRow("ONNX Runtime", $"{info.OnnxRuntimeVersion}; providers: {string.Join(", ", info.ExecutionProviders)}");
        model.AddRow("threads / batch size", $"{info.Threads} / {info.BatchSize}");
        model.AddRow("load time", $"{info.LoadMilliseconds.ToString("F0", c)} ms");
        console.Write(model);

        var encoders = new Table().Title("encoders").AddColumns("", "layers", "width", "heads", "MLP width");
        encoders.AddRow("text", info.Text.Layers.ToString(c), info.Text.Width.ToString(c), info.Text.Heads.ToString(c), info.Text.IntermediateSize.ToString(c));
        encoders.AddRow("vision", info.Vision.Layers.ToString(c), info.Vision.Width.ToString(c), info.Vision.Heads.ToString(c), info.Vision.IntermediateSize.ToString(c));
        console.Write(encoders);

        var parameters = new Table().Title("parameters (from ONNX initializers)").AddColumn("file").AddColumn(new TableColumn("parameters").RightAligned());
        foreach (var (file, count) in info.Parameters)
        {
            parameters.AddRow(Markup.Escape(file), count.ToString("N0", c));
        }

        console.Write(parameters);

        var files = new Table().Title("files").AddColumn("file").AddColumn(new TableColumn("size").RightAligned());
        foreach (var file in info.Files)
        {
            files.AddRow(Markup.Escape(file.Path), FormatBytes(file.Bytes));
        }

        console.Write(files);

        var signatures = new Table().Title("signatures").AddColumns("graph", "inputs", "outputs");
        foreach (var graph in info.Signatures)
        {
            signatures.AddRow(Markup.Escape(graph.File),
                Markup.Escape(string.Join("\n", graph.Inputs.Select(i => $"{i.Name}: {i}"))),
                Markup.Escape(string.Join("\n", graph.Outputs.Select(o => $"{o.Name}: {o}"))));
        }

        console.Write(signatures);
    }

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (double)(1 << 30):F2} GiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):F1} MiB",
        >= 1 << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
