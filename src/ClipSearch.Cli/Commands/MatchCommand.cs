using System.CommandLine;
using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Pipeline;
using ClipSearch.Core.Similarity;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch match --model DIR --image PATH... --text TEXT... [--json]</c>: CLIP's image × text scores.</summary>
internal static class MatchCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var images = new ImageOptions();
        var image = new Option<string[]>("--image", "-i") { Description = "An image file or folder (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var text = new Option<string[]>("--text", "-t") { Description = "A text, e.g. a class prompt (repeatable).", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print {images, texts, cosine, logits, probs, logit_scale} as JSON." };
        var command = new Command("match", "Score every image against every text: cosine, logits and per-image probabilities (zero-shot classification).")
        {
            image, text, json,
        };
        model.AddTo(command);
        images.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            images.Validate(result);
            var texts = result.GetRequiredValue(text);
            var files = ImageArguments.Expand(result.GetRequiredValue(image));
            if (files.Count == 0)
            {
                throw new ClipSearchException("No images found in the given folders.");
            }

            using var clip = model.Load(result);
            var textEmbeddings = clip.EmbedTexts(texts);
            var embedded = new List<ImageEmbeddingResult>();
            var failures = new List<string>();
            var pipeline = new ImageEmbeddingPipeline(clip, images.LoadOptions(result), images.DecoderThreads(result));
            await Output.WithProgressAsync(files.Count, async progress =>
            {
                await foreach (var item in pipeline.RunAsync(files, progress, cancellationToken).ConfigureAwait(false))
                {
                    if (item.Embedding is null)
                    {
                        failures.Add(item.Error!);
                    }
                    else
                    {
                        embedded.Add(item);
                    }
                }
            }).ConfigureAwait(false);
            failures.ForEach(Output.Warn);

            embedded.Sort((a, b) => a.Index.CompareTo(b.Index));
            if (embedded.Count == 0)
            {
                throw new ClipSearchException("None of the images could be read.");
            }

            var match = MatchResult.Compute([.. embedded.Select(e => e.Embedding!)], textEmbeddings, clip.LogitScale.Value);
            var paths = embedded.Select(e => e.Path).ToArray();
            if (result.GetValue(json))
            {
                Output.Json(new MatchOutput(paths, texts, match.Cosine, match.Logits, match.Probabilities, clip.LogitScale.Value));
            }
            else
            {
                Write(paths, texts, match);
            }

            return failures.Count > 0 ? CliApp.PartlyFailed : CliApp.Ok;
        });
        return command;
    }

    private static void Write(string[] paths, string[] texts, MatchResult match)
    {
        var table = new Table().Title("cosine similarity (probability)").AddColumn("text");
        foreach (var path in paths)
        {
            table.AddColumn(new TableColumn(Markup.Escape(Path.GetFileName(path))).RightAligned());
        }

        for (var t = 0; t < texts.Length; t++)
        {
            var cells = new List<string> { Markup.Escape(texts[t]) };
            for (var i = 0; i < paths.Length; i++)
            {
                var best = match.Probabilities[i].AsSpan().IndexOfMax() == t;
                var cell = string.Create(CultureInfo.InvariantCulture, $"{match.Cosine[i][t]:F4} ({match.Probabilities[i][t]:P1})");
                cells.Add(best ? $"[bold green]{cell}[/]" : cell);
            }

            table.AddRow(cells.ToArray());
        }

        Output.Stdout.Write(table);
    }

    private static int IndexOfMax(this Span<float> values) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);

    private sealed record MatchOutput(string[] Images, string[] Texts, float[][] Cosine, float[][] Logits, float[][] Probs, float LogitScale);
}
