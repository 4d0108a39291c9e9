using System.CommandLine;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch search --model DIR [--library …] QUERY [-k N] [--image PATH] [--json]</c>.</summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var model = new ModelArguments();
        var library = new LibraryOption();
        var images = new ImageOptions();
        var query = new Argument<string?>("query")
        {
            Description = "Text, or terms joined by + and - with optional weights: '\"cat\" + \"snow\" - \"dog\"', '2:cat + photo.jpg'.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var k = new Option<int>("-k", "--top") { Description = "How many results.", DefaultValueFactory = _ => 10 };
        var image = new Option<string[]>("--image", "-i") { Description = "Search by an image (repeatable; added to the query).", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print [{\"path\",\"score\",\"copies\"}] as JSON." };
        var command = new Command("search", "Search the library by text, image or combined queries.") { query, k, image, json };
        model.AddTo(command);
        library.AddTo(command, search: true);
        images.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            images.Validate(result);
            await using var lib = await library.OpenAsync(result, cancellationToken).ConfigureAwait(false);
            var imagePaths = result.GetValue(image) ?? [];
            var text = result.GetValue(query);
            var needsVision = imagePaths.Length > 0 || (!string.IsNullOrWhiteSpace(text) && Library.Search.QueryParser.Parse(text).Any(t => t.IsImage));
            var encoders = Core.Model.Encoders.Text | (needsVision ? Core.Model.Encoders.Vision : 0);
            using var clip = model.Load(result, encoders);
            var hits = await lib.SearchAsync(clip, result.GetValue(query), result.GetValue(k), imagePaths, images.LoadOptions(result), cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(hits);
                return CliApp.Ok;
            }

            if (hits.Count == 0)
            {
                Console.Error.WriteLine($"The library {lib.Location} has no images yet: run 'clipsearch index --model DIR FOLDER' first.");
                return CliApp.Ok;
            }

            var table = new Table().AddColumns("score", "path");
            foreach (var hit in hits)
            {
                var copies = hit.Copies.Count > 0 ? $" (+{hit.Copies.Count} copies)" : "";
                table.AddRow(hit.Score.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(hit.Path + copies));
            }

            Output.Stdout.Write(table);
            return CliApp.Ok;
        });
        return command;
    }
}
