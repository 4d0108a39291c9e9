using System.Text.Json;
namespace ClipSearch.Core.Similarity;

/// <summary>Which of a preset's templates a classification uses.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<TemplateSet>))]
public enum TemplateSet
{
    /// <summary>The preset's default: for ImageNet the 7 templates CLIP's authors selected, otherwise all of them.</summary>
    Default,

    /// <summary>Every template the CLIP paper used for the data set (ImageNet: 80).</summary>
    All,
}

/// <summary>A zero-shot preset: a data set's class names and the prompt templates the CLIP paper used for it.</summary>
/// <param name="Name">File stem (cifar10, imagenet, …).</param>
/// <param name="Source">Where the names and templates come from.</param>
/// <param name="Classes">Class names.</param>
/// <param name="Templates">Every prompt template the paper used, with {} for the class name.</param>
/// <param name="DefaultTemplates">The templates used by default: a subset of <paramref name="Templates"/> where the preset names one (ImageNet), else all of them.</param>
/// <param name="DefaultTemplatesSource">Where the default subset comes from, or null when it is every template.</param>
public sealed record ZeroShotPreset(string Name, string Source, IReadOnlyList<string> Classes, IReadOnlyList<string> Templates,
    IReadOnlyList<string> DefaultTemplates, string? DefaultTemplatesSource)
{
    /// <summary>The templates of <paramref name="set"/>.</summary>
    public IReadOnlyList<string> TemplatesOf(TemplateSet set) => set == TemplateSet.All ? Templates : DefaultTemplates;

    /// <summary>Whether the default is a subset (then <see cref="TemplateSet.All"/> is another, costlier choice).</summary>
    public bool HasSubset => DefaultTemplates.Count != Templates.Count;

    /// <summary>Prompts a first use embeds with <paramref name="set"/>: classes × templates.</summary>
    public int Prompts(TemplateSet set) => Classes.Count * TemplatesOf(set).Count;
}

/// <summary>
/// The zero-shot presets built into the app (copied from shared/data/zero-shot as embedded resources of Core): the
/// web and the command line classify with them, the library makes its recall check's text queries from their class names.
/// </summary>
public static class ZeroShotPresets
{
    private const string ResourcePrefix = "preset:";

    private static readonly Lazy<IReadOnlyDictionary<string, ZeroShotPreset>> Loaded = new(Load);

    /// <summary>All presets by name, sorted.</summary>
    public static IReadOnlyDictionary<string, ZeroShotPreset> All => Loaded.Value;

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ClipSearchException">No preset has that name.</exception>
    public static ZeroShotPreset Get(string name) =>
        All.TryGetValue(name.Trim().ToLowerInvariant(), out var preset)
            ? preset
            : throw new ClipSearchException($"Unknown preset '{name}': use one of {string.Join(", ", All.Keys)}.");

    private static SortedDictionary<string, ZeroShotPreset> Load()
    {
        var assembly = typeof(ZeroShotPresets).Assembly;
        var presets = new SortedDictionary<string, ZeroShotPreset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var file = JsonSerializer.Deserialize<PresetFile>(stream, JsonOptions)!;
            var name = resource[ResourcePrefix.Length..];
            var templates = file.Templates ?? [];
            var defaults = file.DefaultTemplates ?? templates;
            if (defaults.Any(t => !templates.Contains(t, StringComparer.Ordinal)))
            {
                throw new InvalidOperationException($"The preset {name} has default templates that are not among its templates.");
            }

            presets[name] = new ZeroShotPreset(name, file.Source ?? "", file.Classes ?? [], templates, defaults, file.DefaultTemplates is null ? null : file.DefaultTemplatesSource);
        }

        return presets;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private sealed record PresetFile(string? Source, string[]? Classes, string[]? Templates, string[]? DefaultTemplates, string? DefaultTemplatesSource);
}
