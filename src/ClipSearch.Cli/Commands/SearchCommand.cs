using System.CommandLine;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch search --model DIR [--library …] QUERY [-k N] [--image PATH] [--in FOLDER]… [--from DATE] [--to DATE] [--type T,…] [--sort relevance|date] [--json]</c>.</summary>
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
        var json = new Option<bool>("--json") { Description = "Print [{\"id\",\"path\",\"score\",\"copies\",\"takenAt\",\"width\",\"height\",\"format\"}] as JSON." };
        var folders = new Option<string[]>("--in") { Description = "Only images in this folder or below it (repeatable).", AllowMultipleArgumentsPerToken = true };
        var from = new Option<string?>("--from") { Description = "Only images taken on or after this date: YYYY-MM-DD, YYYY-MM or YYYY." };
        var to = new Option<string?>("--to") { Description = "Only images taken on or before this date (the whole day, month or year): YYYY-MM-DD, YYYY-MM or YYYY." };
        var types = new Option<string[]>("--type") { Description = "Only these types, comma-separated or repeated: jpeg, png, webp, gif, bmp, heic, avif, tiff, jxl, raw.", AllowMultipleArgumentsPerToken = true };
        var sort = new Option<string>("--sort") { Description = "relevance (best first) or date (the best results, newest first).", DefaultValueFactory = _ => "relevance" };
        sort.AcceptOnlyFromAmong("relevance", "date");
        var command = new Command("search", "Search the library by text, image or combined queries.") { query, k, image, json, folders, from, to, types, sort };
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
            var filter = Library.LibraryFilter.Parse(result.GetValue(folders), result.GetValue(from), result.GetValue(to), result.GetValue(types));
            var order = result.GetValue(sort) == "date" ? Library.LibrarySort.Date : Library.LibrarySort.Relevance;
            using var clip = model.Load(result, encoders);
            var hits = await lib.SearchAsync(clip, result.GetValue(query), result.GetValue(k), imagePaths, images.LoadOptions(result), filter, order, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(hits.Select(h => new
                {
                    h.Id,
                    h.Path,
                    h.Score,
                    h.Copies,
                    TakenAt = h.Metadata?.TakenAtIso8601(),
                    TakenAtSource = h.Metadata is { } m ? m.TakenAtSource.ToString().ToLowerInvariant() : null,
                    h.Metadata?.Width,
                    h.Metadata?.Height,
                    Format = h.Metadata is { } f ? Core.Imaging.ImageFormats.Name(f.Format) : null,
                }).ToList());
                return CliApp.Ok;
            }

            if (hits.Count == 0)
            {
                Console.Error.WriteLine($"The library {lib.Location} has no images yet: run 'clipsearch index --model DIR FOLDER' first.");
                return CliApp.Ok;
            }

            var table = new Table().AddColumns("score", "taken", "path");
            foreach (var hit in hits)
            {
                var copies = hit.Copies.Count > 0 ? $" (+{hit.Copies.Count} copies)" : "";
                var taken = hit.Metadata?.TakenAt.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) ?? "";
                table.AddRow(hit.Score.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), taken, Markup.Escape(hit.Path + copies));
            }

            Output.Stdout.Write(table);
            return CliApp.Ok;
        });
        return command;
    }
}
