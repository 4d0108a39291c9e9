using System.Globalization;

namespace ClipSearch.Web.Localization;

/// <summary>
/// The UI's words in the request's language (zh-CN or en, from the culture cookie or Accept-Language; see
/// <see cref="WebApp.Cultures"/>). A missing key shows as itself, and a test checks that both languages have every key.
/// </summary>
public sealed class Ui
{
    private readonly IReadOnlyDictionary<string, string> _strings;

    /// <summary>The strings of the current UI culture.</summary>
    public Ui()
    {
        IsChinese = CultureInfo.CurrentUICulture.Name.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
        _strings = IsChinese ? Strings.Chinese : Strings.English;
    }

    /// <summary>Whether the UI is in Chinese.</summary>
    public bool IsChinese { get; }

    /// <summary>The page's lang attribute.</summary>
    public string Language => IsChinese ? "zh-CN" : "en";

    /// <summary>The string for <paramref name="key"/>.</summary>
    public string this[string key] => _strings.TryGetValue(key, out var value) ? value : key;
}
