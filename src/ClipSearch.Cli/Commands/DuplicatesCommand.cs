using System.CommandLine;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch duplicates [--library …] [--threshold 0.95] [--json]</c>: groups of near-identical images.</summary>
internal static class DuplicatesCommand
{
    public static Command Create()
    {
        var library = new LibraryOption();
        var threshold = new Option<float>("--threshold") { Description = "Least cosine similarity between near-duplicates.", DefaultValueFactory = _ => Library.Search.DuplicateGroup.DefaultThreshold };
        var json = new Option<bool>("--json") { Description = "Print [{\"paths\",\"min_score\"}] as JSON." };
        var command = new Command("duplicates", "List groups of near-duplicate images in the library (byte-identical copies included).") { threshold, json };
        library.AddTo(command, search: true);
        command.SetAction(async (result, cancellationToken) =>
        {
            await using var lib = await library.OpenAsync(result, cancellationToken).ConfigureAwait(false);
            var groups = await lib.FindDuplicatesAsync(result.GetValue(threshold), cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                Output.Json(groups.Select(g => new { Paths = g.Paths.ToList(), g.MinScore }).ToList());
                return CliApp.Ok;
            }

            foreach (var group in groups)
            {
                Console.Out.WriteLine($"{group.Images.Count} images, cosine ≥ {group.MinScore:F3}:");
                foreach (var path in group.Paths)
                {
                    Console.Out.WriteLine($"  {path}");
                }
            }

            Console.Error.WriteLine($"{groups.Count} groups of near-duplicates");
            return CliApp.Ok;
        });
        return command;
    }
}
