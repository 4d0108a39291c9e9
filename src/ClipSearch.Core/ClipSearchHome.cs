namespace ClipSearch.Core;

/// <summary>
/// The one place that knows where ClipSearch keeps what outlives a run, for the CLI, the web server and the Hub
/// client alike. With a home folder (<c>$CLIPSEARCH_HOME</c>, or the server's <c>ClipSearch:Home</c>) everything is
/// inside it: <c>HOME/models/</c>, <c>HOME/cache/</c>, <c>HOME/keys/</c>, <c>HOME/library.db</c>. Without one, the
/// platform's folders (XDG): models, caches and keys in <c>$XDG_CACHE_HOME/clipsearch/</c> (else
/// <c>~/.cache/clipsearch/</c>), the default library in <c>$XDG_DATA_HOME/clipsearch/library.db</c> (else
/// <c>~/.local/share/clipsearch/library.db</c>), as the README documents.
/// </summary>
public sealed class ClipSearchHome
{
    /// <summary>The environment variable naming ClipSearch's home folder.</summary>
    public const string Variable = "CLIPSEARCH_HOME";

    private ClipSearchHome(string? root) => Root = root;

    /// <summary>The home folder, or null when the platform's folders are used.</summary>
    public string? Root { get; }

    /// <summary>The model store: the folder that holds <c>owner/name/</c> model folders.</summary>
    /// <exception cref="ClipSearchException">There is neither a home folder nor a user profile to put it in.</exception>
    public string Models => Inside("models");

    /// <summary>Caches (label embeddings and the like).</summary>
    /// <exception cref="ClipSearchException">There is neither a home folder nor a user profile to put it in.</exception>
    public string Cache => Inside("cache");

    /// <summary>The keys of ASP.NET Core's data protection (they protect the UI's forms).</summary>
    /// <exception cref="ClipSearchException">There is neither a home folder nor a user profile to put it in.</exception>
    public string Keys => Inside("keys");

    /// <summary>The default library file.</summary>
    public string Library => Root is not null
        ? Path.Combine(Root, "library.db")
        : Path.Combine(Xdg("XDG_DATA_HOME", ".local", "share") ?? Path.Combine(".local", "share"), "clipsearch", "library.db");

    /// <summary>From <c>$CLIPSEARCH_HOME</c> when it is set, else the platform's folders.</summary>
    public static ClipSearchHome FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { } home && !string.IsNullOrWhiteSpace(home) ? new(home) : new(null);

    /// <summary>Everything inside <paramref name="root"/>.</summary>
    public static ClipSearchHome At(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return new(root);
    }

    private string Inside(string name) => Root is not null
        ? Path.Combine(Root, name)
        : Path.Combine(Xdg("XDG_CACHE_HOME", ".cache")
            ?? throw new ClipSearchException(ErrorCodes.NoHome, $"There is no folder to keep models and caches in: neither {Variable} nor XDG_CACHE_HOME nor a home folder is set."), "clipsearch", name);

    /// <summary><paramref name="variable"/>, else that folder under the user's profile; null when there is no profile.</summary>
    private static string? Xdg(string variable, params string[] underProfile)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(user) ? null : Path.Combine([user, .. underProfile]);
    }
}
