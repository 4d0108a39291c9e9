using System.Text.Json;
using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>A zero-shot preset: a data set's class names and the prompt templates the CLIP paper used for it.</summary>
/// <param name="Name">File stem (cifar10, imagenet, …).</param>
/// <param name="Source">Where the names and templates come from.</param>
/// <param name="Classes">Class names.</param>
/// <param name="Templates">Prompt templates with {} for the class name.</param>
public sealed record ZeroShotPreset(string Name, string Source, IReadOnlyList<string> Classes, IReadOnlyList<string> Templates);

/// <summary>The presets built into the app (copied from shared/data/zero-shot as embedded resources).</summary>
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
            presets[name] = new ZeroShotPreset(name, file.Source ?? "", file.Classes ?? [], file.Templates ?? []);
        }

        return presets;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private sealed record PresetFile(string? Source, string[]? Classes, string[]? Templates);
}
