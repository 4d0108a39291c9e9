using System.Text.RegularExpressions;
using ClipSearch.Core;

namespace ClipSearch.Hub;

/// <summary>A model repository on the Hub, <c>owner/name</c> (for example <c>Xenova/clip-vit-base-patch32</c>).</summary>
public sealed partial record HubRepo(string Owner, string Name)
{
    /// <summary>The model ClipSearch uses when none is named: CLIP ViT-B/32 exported to ONNX by Xenova.</summary>
    public static HubRepo Default { get; } = new("Xenova", "clip-vit-base-patch32");

    /// <summary>Parses <c>owner/name</c>; anything else (a URL, a path with <c>..</c>) is a <see cref="ClipSearchException"/>.</summary>
    public static HubRepo Parse(string text)
    {
        var match = RepoPattern().Match(text.Trim());
        if (!match.Success || match.Groups[1].Value is "." or ".." || match.Groups[2].Value is "." or "..")
        {
            throw new ClipSearchException($"'{text}' is not a Hub repository name: use owner/name, for example {Default}.");
        }

        return new HubRepo(match.Groups[1].Value, match.Groups[2].Value);
    }

    /// <summary><c>owner/name</c>.</summary>
    public override string ToString() => $"{Owner}/{Name}";

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9._-]{0,95})/([A-Za-z0-9][A-Za-z0-9._-]{0,95})$")]
    private static partial Regex RepoPattern();
}
