using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using Spectre.Console;

namespace ClipSearch.Cli.Commands;

/// <summary>
/// <c>clipsearch presets warm [--preset NAME]… [--templates default|all] [--model DIR]</c>: fills the disk cache of
/// the zero-shot presets' label embeddings for a model, so that the server's first classification with them reads it.
/// </summary>
internal static class PresetsCommand
{
    public static Command Create()
    {
        var command = new Command("presets", "The zero-shot presets (class names and prompt templates from openai/CLIP) the server's Classify tab offers.");
        command.Subcommands.Add(Warm());
        return command;
    }

    private static Command Warm()
    {
        var model = new ModelArguments();
        var preset = new Option<string[]>("--preset", "-p")
        {
            Description = $"A preset to warm (repeatable; default: every one): {string.Join(", ", ZeroShotPresets.All.Keys)}.",
            AllowMultipleArgumentsPerToken = true,
        };
        var templates = new Option<string>("--templates")
        {
            Description = "Which templates: default (ImageNet: the 7 CLIP's authors selected; the others: all of theirs) or all (ImageNet: the paper's 80).",
            DefaultValueFactory = _ => "default",
        };
        var command = new Command("warm", "Embed the presets' prompts into the disk cache (HOME/cache/zero-shot) for the model, so that their first use is instant. Ctrl-C keeps what is done; the next run goes on from there.")
        {
            preset, templates,
        };
        model.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            model.Validate(result);
            var set = result.GetValue(templates)?.Trim().ToLowerInvariant() switch
            {
                "default" or null => TemplateSet.Default,
                "all" => TemplateSet.All,
                var other => throw new ClipSearchException($"Unknown --templates '{other}': use default or all."),
            };
            var names = result.GetValue(preset) is { Length: > 0 } given ? given : [.. ZeroShotPresets.All.Keys];
            var chosen = names.Select(ZeroShotPresets.Get).DistinctBy(p => p.Name).OrderBy(p => p.Prompts(set)).ToArray();

            using var clip = model.Load(result, Encoders.Text);
            var identity = ModelIdentity.CacheKey(clip);
            var cache = new LabelEmbeddingCache(Path.Combine(ClipSearchHome.FromEnvironment().Cache, LabelEmbeddingCache.FolderName));
            var classifier = new ZeroShotClassifier(clip);
            foreach (var p in chosen)
            {
                var labelTemplates = p.TemplatesOf(set);
                if (LabelEmbeddingCache.TryRead(cache.PathFor(identity, p.Name, p.Classes, labelTemplates), p.Classes.Count, clip.EmbeddingDim) is not null)
                {
                    Output.Stdout.MarkupLine(CultureInfo.InvariantCulture, $"{Markup.Escape(p.Name)}: already cached ({p.Prompts(set):N0} prompts, {labelTemplates.Count} templates)");
                    continue;
                }

                await WarmOneAsync(cache, classifier, identity, clip.EmbeddingDim, p, labelTemplates, cancellationToken).ConfigureAwait(false);
            }

            return CliApp.Ok;
        });
        return command;
    }

    private static async Task WarmOneAsync(LabelEmbeddingCache cache, ZeroShotClassifier classifier, string identity, int dimension, ZeroShotPreset preset,
        IReadOnlyList<string> templates, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int? first = null;
        var last = new ZeroShotProgress(0, preset.Classes.Count * templates.Count);
        void Note(ZeroShotProgress value)
        {
            first ??= value.PromptsDone;
            last = value;
        }

        double Rate() => (last.PromptsDone - (first ?? 0)) / Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
        try
        {
            await CliProgress.RunAsync<bool>(
                [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn()],
                context => Task.Run(() =>
                {
                    var task = context?.AddTask($"{preset.Name} ({templates.Count} templates)", maxValue: last.PromptsTotal);
                    var throttle = new CliProgress.Throttle();
                    cache.GetOrEmbed(classifier, identity, dimension, preset.Name, preset.Classes, templates, new Progress(value =>
                    {
                        Note(value);
                        if (task is not null)
                        {
                            task.Value = value.PromptsDone;
                            task.Description = $"{preset.Name} ({templates.Count} templates, {Rate():F0} prompts/s)";
                        }
                        else if (throttle.Due(force: value.PromptsDone == value.PromptsTotal))
                        {
                            CliProgress.Line(string.Create(CultureInfo.InvariantCulture, $"{preset.Name}: {value.PromptsDone}/{value.PromptsTotal} prompts, {Rate():F0} prompts/s"));
                        }
                    }), cancellationToken, cannotWrite: (path, e) => Output.Warn($"cannot write {path}: {e.Message}"));
                    return true;
                }, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            CliProgress.Line(string.Create(CultureInfo.InvariantCulture, $"{preset.Name}: stopped at {last.PromptsDone:N0} of {last.PromptsTotal:N0} prompts; kept, the next run goes on from there"));
            throw;
        }

        Output.Stdout.MarkupLine(CultureInfo.InvariantCulture,
            $"{Markup.Escape(preset.Name)}: {last.PromptsTotal - (first ?? 0):N0} prompts embedded in {clock.Elapsed.TotalSeconds:F1} s ({Rate():F0} prompts/s), {templates.Count} templates, cached");
    }

    private sealed class Progress(Action<ZeroShotProgress> report) : IProgress<ZeroShotProgress>
    {
        public void Report(ZeroShotProgress value) => report(value);
    }
}
