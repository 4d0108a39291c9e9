using System.CommandLine;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Core.Pipeline;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch embed --model DIR [--image PATH]... [--text TEXT]... [--json]</c>: normalised embeddings.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var images = new ImageOptions();
        var image = new Option<string[]>("--image", "-i") { Description = "An image file or a folder of images (repeatable).", AllowMultipleArgumentsPerToken = true };
        var text = new Option<string[]>("--text", "-t") { Description = "A text (repeatable).", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print {\"images\":[{\"path\",\"embedding\"}],\"texts\":[{\"text\",\"embedding\"}]} as JSON." };
        var command = new Command("embed", "Compute L2-normalised CLIP embeddings of images and texts.") { image, text, json };
        model.AddTo(command);
        images.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            images.Validate(result);
            var texts = result.GetValue(text) ?? [];
            var files = ImageArguments.Expand(result.GetValue(image) ?? []);
            if (texts.Length == 0 && files.Count == 0)
            {
                throw new ClipSearchException("Nothing to embed: give --image PATH and/or --text TEXT.");
            }

            var encoders = (files.Count > 0 ? Encoders.Vision : 0) | (texts.Length > 0 ? Encoders.Text : 0);
            using var clip = model.Load(result, encoders);
            var textRows = texts.Length > 0
                ? clip.EmbedTexts(texts).Select((e, i) => new TextEmbedding(texts[i], e)).ToArray()
                : [];

            var imageRows = new ImageEmbedding[files.Count];
            var errors = new List<ImageError>();
            var pipeline = new ImageEmbeddingPipeline(clip, images.LoadOptions(result), images.DecoderThreads(result));
            await Output.WithProgressAsync(files.Count, async progress =>
            {
                await foreach (var item in pipeline.RunAsync(files, progress, cancellationToken).ConfigureAwait(false))
                {
                    if (item.Embedding is null)
                    {
                        errors.Add(new ImageError(item.Path, item.Error!));
                    }
                    else
                    {
                        imageRows[item.Index] = new ImageEmbedding(item.Path, item.Embedding);
                    }
                }
            }).ConfigureAwait(false);
            errors.ForEach(e => Output.Warn(e.Error));
            var embedded = imageRows.Where(r => r is not null).ToArray();
            if (result.GetValue(json))
            {
                Output.Json(new EmbedOutput(embedded, textRows, errors.Count > 0 ? errors : null));
            }
            else
            {
                var table = new Table().AddColumns("input", "embedding (first 6 of " + clip.EmbeddingDim + ")");
                foreach (var row in embedded)
                {
                    table.AddRow(Markup.Escape(row.Path), Preview(row.Embedding));
                }

                foreach (var row in textRows)
                {
                    table.AddRow(Markup.Escape($"\"{row.Text}\""), Preview(row.Embedding));
                }

                Output.Stdout.Write(table);
            }

            return errors.Count > 0 ? CliApp.PartlyFailed : CliApp.Ok;
        });
        return command;
    }

    private static string Preview(float[] embedding) =>
        string.Join(' ', embedding.Take(6).Select(v => v.ToString("+0.0000;-0.0000", System.Globalization.CultureInfo.InvariantCulture))) + " …";

    private sealed record ImageEmbedding(string Path, float[] Embedding);

    private sealed record TextEmbedding(string Text, float[] Embedding);

    private sealed record ImageError(string Path, string Error);

    private sealed record EmbedOutput(ImageEmbedding[] Images, TextEmbedding[] Texts, List<ImageError>? Errors);
}
