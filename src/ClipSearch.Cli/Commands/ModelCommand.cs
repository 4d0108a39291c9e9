using System.CommandLine;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Hub;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary>
/// <c>clipsearch model download|list|remove</c>: models from the Hugging Face Hub (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>)
/// in the model store (<c>$CLIPSEARCH_HOME/models</c> or <c>~/.cache/clipsearch/models</c>).
/// </summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var command = new Command("model", "Download, list and remove models (from the Hugging Face Hub; HF_ENDPOINT and HF_TOKEN are honoured).");
        command.Subcommands.Add(Download());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Command Download()
    {
        var repo = new Option<string>("--repo") { Description = "Hub repository (owner/name).", DefaultValueFactory = _ => HubRepo.Default.ToString() };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit.", DefaultValueFactory = _ => "main" };
        var variant = new Option<string>("--variant") { Description = "Weights to fetch: fp32, quantized, fp16 or all.", DefaultValueFactory = _ => "fp32" };
        var dir = new Option<DirectoryInfo>("--dir") { Description = "Folder to put the model in (default: the model store; then commands find it without --model)." };
        var command = new Command("download", "Download a CLIP model folder from the Hugging Face Hub, resuming partial files and checking sizes and sha256.")
        {
            repo, revision, variant, dir,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(dir) is { } target && File.Exists(target.FullName))
            {
                throw new ClipSearchException($"--dir {target.FullName} is a file: give a folder (it is created when missing).");
            }

            var request = new DownloadRequest
            {
                Repo = HubRepo.Parse(result.GetValue(repo)!),
                Revision = result.GetValue(revision)!,
                Variants = DownloadRequest.ParseVariants(result.GetValue(variant)!),
                Directory = result.GetValue(dir)?.FullName,
            };
            var store = ModelStore.FromEnvironment();
            using var client = new HubClient();
            var downloader = new ModelDownloader(client, store);
            DownloadResult done;
            try
            {
                done = await DownloadReporter.RunAsync(progress => downloader.DownloadAsync(request, progress, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("download interrupted: partial files are kept (*.incomplete); run the same command to resume.").ConfigureAwait(false);
                throw;
            }

            var received = done.BytesReceived > 0 ? $"{Bytes.Format(done.BytesReceived)} received in {done.Elapsed.TotalSeconds:F1} s" : "nothing to fetch, all files were there";
            Console.Out.WriteLine($"{done.Repo} ({string.Join(", ", done.Variants.Select(v => v.Name()))}) is in {done.Directory}: "
                + $"{done.Files.Count} files, {Bytes.Format(done.Files.Sum(f => f.Bytes))} ({received}); it loads ({done.EmbeddingDim}-d embeddings).");
            Console.Out.WriteLine(store.DefaultModel?.Directory == done.Directory
                ? "Commands use it when --model is left out."
                : $"Use it with --model {done.Directory}");
            return CliApp.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print {\"root\",\"default\",\"models\":[{\"repo\",\"directory\",\"variants\",\"bytes\",\"incomplete_bytes\"}]} as JSON." };
        var command = new Command("list", "List the models in the model store, their variants and sizes.") { json };
        command.SetAction(result =>
        {
            var store = ModelStore.FromEnvironment();
            var models = store.List();
            var defaultDir = store.DefaultModel?.Directory;
            if (result.GetValue(json))
            {
                Output.Json(new ListOutput(store.Root, defaultDir,
                    [.. models.Select(m => new ListedModel(m.Repo, m.Directory, [.. m.Variants.Select(v => v.Name())], m.Bytes, m.IncompleteBytes))]));
                return CliApp.Ok;
            }

            if (models.Count == 0)
            {
                Console.Out.WriteLine($"No models in {store.Root}: run `clipsearch model download`.");
                return CliApp.Ok;
            }

            var table = new Table().Title(Markup.Escape(store.Root)).AddColumns("model", "variants", "size", "folder");
            table.Columns[2].RightAligned();
            foreach (var m in models)
            {
                var size = Bytes.Format(m.Bytes) + (m.IncompleteBytes > 0 ? $" ({Bytes.Format(m.IncompleteBytes)} partial)" : "");
                var name = Markup.Escape(m.Repo) + (m.Directory == defaultDir ? " (default)" : "");
                table.AddRow(name, string.Join(", ", m.Variants.Select(v => v.Name())), size, Markup.Escape(m.Directory));
            }

            Output.Stdout.Write(table);
            return CliApp.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var repo = new Argument<string>("REPO") { Description = "The model to delete (owner/name, as `model list` shows it)." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation." };
        var command = new Command("remove", "Delete a model from the model store.") { repo, yes };
        command.SetAction(result =>
        {
            var store = ModelStore.FromEnvironment();
            var name = HubRepo.Parse(result.GetValue(repo)!);
            var directory = store.DirectoryFor(name);
            if (!Directory.Exists(directory))
            {
                throw new ClipSearchException($"{name} is not installed in {store.Root} (`clipsearch model list` shows what is).");
            }

            if (!result.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    throw new ClipSearchException($"Not removing {name} without confirmation: pass --yes.");
                }

                if (!Output.Stdout.Confirm($"Delete {Markup.Escape(directory)}?", defaultValue: false))
                {
                    return CliApp.Ok;
                }
            }

            var removed = store.Remove(name);
            Console.Out.WriteLine($"removed {removed.Repo} ({Bytes.Format(removed.Bytes)}) from {removed.Directory}");
            return CliApp.Ok;
        });
        return command;
    }

    private sealed record ListOutput(string Root, string? Default, IReadOnlyList<ListedModel> Models);

    private sealed record ListedModel(string Repo, string Directory, IReadOnlyList<string> Variants, long Bytes, long IncompleteBytes);
}
