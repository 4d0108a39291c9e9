using ClipSearch.Core.Model;

namespace ClipSearch.Hub;

/// <summary>The files of one download, each with the size and sha256 the Hub announces.</summary>
internal sealed record DownloadPlan(IReadOnlyList<HubFile> Files, IReadOnlyList<ModelVariant> Variants, string? Commit);

/// <summary>
/// Decides which files a model folder needs: the configuration and tokenizer files, and per variant the split
/// graphs, else the combined one (named by <see cref="OnnxFileNames"/>), with any external-data files beside them. The ONNX folder is listed with the
/// Hub's tree API; a server without it (a plain mirror) is asked for the conventional names one by one.
/// </summary>
internal static class DownloadPlanner
{
    public const string ConfigFile = "config.json";
    public const string OnnxFolder = OnnxFileNames.Folder;

    /// <summary>Small files a folder can do without (CLIP's preprocessing is the default; one tokenizer form suffices).</summary>
    public static readonly string[] OptionalFiles = ["preprocessor_config.json", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"];

    private static readonly string[] _externalDataSuffixes = ["_data", ".data"];

    public static async Task<DownloadPlan> PlanAsync(HubClient client, DownloadRequest request, CancellationToken cancellationToken)
    {
        var (repo, revision) = (request.Repo, request.Revision);
        Task<HubFile?> Head(string path) => client.GetFileAsync(repo, revision, path, cancellationToken);

        var config = await Head(ConfigFile).ConfigureAwait(false)
            ?? throw new HubException(HubFailure.NotFound, $"{repo} has no {ConfigFile} at revision {revision}: it is not a model in the Hugging Face layout.");
        var files = new List<HubFile> { config };
        foreach (var name in OptionalFiles)
        {
            if (await Head(name).ConfigureAwait(false) is { } found)
            {
                files.Add(found);
            }
        }

        bool Has(string name) => files.Any(f => f.Path == name);
        if (!Has("tokenizer.json") && !(Has("vocab.json") && Has("merges.txt")))
        {
            throw new HubException(HubFailure.NotFound, $"{repo} has no tokenizer at revision {revision} (tokenizer.json, or vocab.json and merges.txt).");
        }

        var tree = await client.ListFolderAsync(repo, revision, OnnxFolder, cancellationToken).ConfigureAwait(false);
        var listed = tree?.Where(e => e.Type == "file" && IsOnnxFolderFile(e.Path)).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        var variants = new List<ModelVariant>();
        foreach (var variant in request.Variants)
        {
            var onnx = await OnnxFilesAsync(variant, listed, Head).ConfigureAwait(false);
            if (onnx.Count > 0)
            {
                files.AddRange(onnx);
                variants.Add(variant);
            }
            else if (request.Variants.Count == 1)
            {
                throw new HubException(HubFailure.NotFound, Core.ErrorCodes.HubVariantMissing, MissingVariantMessage(repo, revision, variant, listed), [repo.ToString(), variant.Name(), revision]);
            }
        }

        if (variants.Count == 0)
        {
            throw new HubException(HubFailure.NotFound, Core.ErrorCodes.HubVariantMissing, MissingVariantMessage(repo, revision, request.Variants[0], listed),
                [repo.ToString(), request.Variants[0].Name(), revision]);
        }

        return new DownloadPlan(files, variants, config.Commit);
    }

    /// <summary>The ONNX files of <paramref name="variant"/>, external data before the graph that needs it; empty when there are none.</summary>
    private static async Task<List<HubFile>> OnnxFilesAsync(ModelVariant variant, HashSet<string>? listed, Func<string, Task<HubFile?>> head)
    {
        var split = OnnxFileNames.Of(variant, ModelLayout.Split);
        var combined = OnnxFileNames.Of(variant, ModelLayout.Combined);
        var result = new List<HubFile>();
        if (listed is not null)
        {
            var graphs = split.All(listed.Contains) ? split : combined.All(listed.Contains) ? combined : [];
            foreach (var graph in graphs)
            {
                foreach (var data in listed.Where(p => _externalDataSuffixes.Any(s => p.StartsWith(graph + s, StringComparison.Ordinal))).Order(StringComparer.Ordinal))
                {
                    result.Add(await head(data).ConfigureAwait(false) ?? throw Vanished(data));
                }

                result.Add(await head(graph).ConfigureAwait(false) ?? throw Vanished(graph));
            }

            return result;
        }

        var found = new List<HubFile>();
        foreach (var graph in split)
        {
            if (await head(graph).ConfigureAwait(false) is { } file)
            {
                found.Add(file);
            }
        }

        if (found.Count < split.Count)
        {
            found.Clear();
            if (await head(combined[0]).ConfigureAwait(false) is { } file)
            {
                found.Add(file);
            }
        }

        foreach (var graph in found)
        {
            foreach (var suffix in _externalDataSuffixes)
            {
                if (await head(graph.Path + suffix).ConfigureAwait(false) is { } data)
                {
                    result.Add(data);
                }
            }

            result.Add(graph);
        }

        return result;
    }

    private static bool IsOnnxFolderFile(string path) =>
        path.StartsWith(OnnxFolder + "/", StringComparison.Ordinal) && path.Count(c => c == '/') == 1
        && !path.Contains("..", StringComparison.Ordinal) && !path.Contains('\\', StringComparison.Ordinal);

    private static HubException Vanished(string path) =>
        new(HubFailure.NotFound, $"The Hub lists {path} but answers 404 for it; try again later.");

    private static string MissingVariantMessage(HubRepo repo, string revision, ModelVariant variant, HashSet<string>? listed)
    {
        var has = listed is null ? "" : listed.Count == 0
            ? " Its onnx/ folder is empty or missing."
            : $" Its onnx/ folder holds: {string.Join(", ", listed.Order(StringComparer.Ordinal).Select(Path.GetFileName))}.";
        return $"{repo} has no {variant.Name()} ONNX files at revision {revision} (looked for {OnnxFileNames.Text(variant)} and {OnnxFileNames.Vision(variant)}, or {OnnxFileNames.Combined(variant)}).{has}";
    }
}
