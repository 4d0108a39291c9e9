using ClipSearch.Core;
using ClipSearch.Core.Model;

namespace ClipSearch.Hub;

/// <summary>A model folder in the store: which variants it can run and how much disk it takes.</summary>
/// <param name="Repo">The repository it came from (<c>owner/name</c>, from its place in the store).</param>
/// <param name="Directory">The folder (what <c>--model</c> takes).</param>
/// <param name="Variants">Variants whose ONNX files are all there.</param>
/// <param name="Bytes">Size of every file in the folder, partial downloads included.</param>
/// <param name="IncompleteBytes">Size of partial downloads (<c>*.incomplete</c>) waiting to be resumed.</param>
public sealed record InstalledModel(string Repo, string Directory, IReadOnlyList<ModelVariant> Variants, long Bytes, long IncompleteBytes);

/// <summary>
/// Where downloaded models live: <c>$CLIPSEARCH_HOME/models/&lt;owner&gt;/&lt;name&gt;/</c>, else
/// <c>~/.cache/clipsearch/models/&lt;owner&gt;/&lt;name&gt;/</c> (<c>$XDG_CACHE_HOME</c> replaces <c>~/.cache</c>).
/// </summary>
public sealed class ModelStore
{
    /// <summary>Creates a store rooted at <paramref name="root"/> (the folder that holds <c>owner/name/</c> folders).</summary>
    public ModelStore(string root) => Root = Path.GetFullPath(root);

    /// <summary>The folder that holds <c>owner/name/</c> model folders.</summary>
    public string Root { get; }

    /// <summary>The store of this user: <see cref="ClipSearchHome.Models"/> of <see cref="ClipSearchHome.FromEnvironment"/>.</summary>
    public static ModelStore FromEnvironment() => new(ClipSearchHome.FromEnvironment().Models);

    /// <summary>
    /// The model commands use when <c>--model</c> is left out: Xenova/clip-vit-base-patch32 when installed, else
    /// the first installed model (by name); null when none is.
    /// </summary>
    public InstalledModel? DefaultModel => Find(HubRepo.Default) ?? List().FirstOrDefault();

    /// <summary>The folder of <paramref name="repo"/> in this store (whether or not it exists).</summary>
    public string DirectoryFor(HubRepo repo) => Path.Combine(Root, repo.Owner, repo.Name);

    /// <summary>
    /// The repository <paramref name="directory"/> holds when it is a model folder of this store
    /// (<c>ROOT/owner/name</c>, as downloads make it), else null.
    /// </summary>
    public HubRepo? RepoOf(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var owner = Path.GetDirectoryName(full);
        var root = owner is null ? null : Path.GetDirectoryName(owner);
        if (root is null || !string.Equals(root, Path.TrimEndingDirectorySeparator(Root), StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return HubRepo.Parse($"{Path.GetFileName(owner)}/{Path.GetFileName(full)}");
        }
        catch (ClipSearchException)
        {
            return null;   // a folder in the store that no download names
        }
    }

    /// <summary>Installed models (a config.json and at least one complete variant), by name.</summary>
    public IReadOnlyList<InstalledModel> List()
    {
        if (!System.IO.Directory.Exists(Root))
        {
            return [];
        }

        return [.. System.IO.Directory.EnumerateDirectories(Root)
            .SelectMany(System.IO.Directory.EnumerateDirectories)
            .Select(dir => Inspect(dir, $"{Path.GetFileName(Path.GetDirectoryName(dir))}/{Path.GetFileName(dir)}"))
            .OfType<InstalledModel>()
            .Where(m => m.Variants.Count > 0)
            .OrderBy(m => m.Repo, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary><paramref name="repo"/> when it is installed with at least one variant, else null.</summary>
    public InstalledModel? Find(HubRepo repo) =>
        Inspect(DirectoryFor(repo), repo.ToString()) is { Variants.Count: > 0 } model ? model : null;

    /// <summary>
    /// Deletes the folder of <paramref name="repo"/> (complete or partial) and returns what it held; a repository
    /// that is not in the store is a <see cref="ClipSearchException"/>.
    /// </summary>
    public InstalledModel Remove(HubRepo repo)
    {
        var dir = DirectoryFor(repo);
        var model = Inspect(dir, repo.ToString())
            ?? throw new ClipSearchException(ErrorCodes.ModelNotInstalled, $"{repo} is not installed in {Root}.", [repo.ToString(), Root]);
        System.IO.Directory.Delete(dir, recursive: true);
        var owner = Path.GetDirectoryName(dir)!;
        if (!System.IO.Directory.EnumerateFileSystemEntries(owner).Any())
        {
            System.IO.Directory.Delete(owner);
        }

        return model;
    }

    /// <summary>What <paramref name="directory"/> holds, or null when it does not exist.</summary>
    public static InstalledModel? Inspect(string directory, string repo)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return null;
        }

        var files = new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
        var hasConfig = File.Exists(Path.Combine(directory, "config.json"));
        var variants = Enum.GetValues<ModelVariant>().Where(v => hasConfig && HasOnnx(directory, v)).ToList();
        return new InstalledModel(repo, Path.GetFullPath(directory), variants,
            files.Sum(f => f.Length),
            files.Where(f => f.Name.EndsWith(FileDownload.IncompleteSuffix, StringComparison.Ordinal)).Sum(f => f.Length));
    }

    private static bool HasOnnx(string directory, ModelVariant variant) => OnnxFileNames.Find(directory, variant) is not null;
}
