using ClipSearch.Core.Model;

namespace ClipSearch.Web.Services;

/// <summary>
/// The name other tools call the loaded model by (OpenAI's <c>model</c>, <c>GET /v1/models</c>): the Hub
/// repository it was downloaded from when its folder is in the model store (<c>Xenova/clip-vit-base-patch32</c>),
/// else its folder's name (<c>clip-vit-base-patch32</c> for <c>--model ~/models/clip-vit-base-patch32</c>).
/// </summary>
public sealed class ModelNames(AppFolders folders)
{
    /// <summary>The id of the model <paramref name="info"/> describes.</summary>
    public string IdOf(ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return folders.Store.RepoOf(info.Directory)?.ToString()
            ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(info.Directory));
    }

    /// <summary>Whether <paramref name="name"/> names the model <paramref name="info"/> describes (case aside, as the Hub compares names).</summary>
    public bool Names(ModelInfo info, string name) => string.Equals(IdOf(info), name?.Trim(), StringComparison.OrdinalIgnoreCase);
}
