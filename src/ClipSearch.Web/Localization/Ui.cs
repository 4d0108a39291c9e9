using System.Globalization;
using ClipSearch.Core;

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

    /// <summary>
    /// An error for the page, worded by its code (<see cref="ClipSearchException.Code"/>) in the page's language with
    /// the web's own advice (the Model tab, the API's fields), never a CLI flag; in English as the API gives it.
    /// </summary>
    public string Error(Exception error)
    {
        var templates = IsChinese ? Strings.ChineseErrors : Strings.EnglishErrors;
        return ErrorWords.Describe(error, key => templates.GetValueOrDefault(key), CultureInfo.CurrentCulture);
    }

    /// <summary>An error as the API gives it: in English, whatever the request's language.</summary>
    public static string English(Exception error) =>
        ErrorWords.Describe(error, key => Strings.EnglishErrors.GetValueOrDefault(key), CultureInfo.InvariantCulture);
}
