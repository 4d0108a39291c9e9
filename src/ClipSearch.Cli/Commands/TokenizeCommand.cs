using System.CommandLine;
using ClipSearch.Core.Tokenization;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary><c>clipsearch tokenize [--json] [--model DIR] TEXT...</c>: CLIP token ids, start and end included, unpadded.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var texts = new Argument<string[]>("text") { Description = "Texts to tokenize.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print [{\"text\":…,\"ids\":[…]}] as JSON." };
        var model = new Option<DirectoryInfo?>("--model", "-m") { Description = "Use this model folder's tokenizer files (default: the CLIP vocabulary built in)." };
        var command = new Command("tokenize", "Show the CLIP token ids of texts (start and end tokens included, truncated to 77, not padded).")
        {
            texts, json, model,
        };
        command.SetAction(result =>
        {
            var tokenizer = result.GetValue(model) is { } dir ? ClipTokenizer.FromFolder(dir.FullName) : ClipTokenizer.Default;
            var rows = result.GetRequiredValue(texts).Select(t => new TokenizedText(t, tokenizer.Encode(t))).ToArray();
            if (result.GetValue(json))
            {
                Output.Json(rows);
                return CliApp.Ok;
            }

            var table = new Table().AddColumns("text", "tokens", "ids");
            foreach (var row in rows)
            {
                table.AddRow(Markup.Escape(row.Text), row.Ids.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(' ', row.Ids));
            }

            Output.Stdout.Write(table);
            return CliApp.Ok;
        });
        return command;
    }

    private sealed record TokenizedText(string Text, int[] Ids);
}
