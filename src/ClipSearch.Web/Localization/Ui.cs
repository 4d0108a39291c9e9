using System.Globalization;
using System.Resources;
using Microsoft.Extensions.Localization;

namespace ClipSearch.Web.Localization;

/// <summary>
/// The UI's words in the request's language (zh-CN or en, from the culture cookie or Accept-Language; see
/// <see cref="WebApp.Cultures"/>), read through ASP.NET Core's <see cref="IStringLocalizer{T}"/> from
/// <c>Resources/Localization/Ui.resx</c> (English) and <c>Ui.zh-CN.resx</c> (docs/localization.md). A missing key
/// shows as itself, and a test checks that both languages have every key.
/// </summary>
public sealed class Ui
{
    /// <summary>The folder of the resources, for <c>AddLocalization</c>: <c>Resources/Localization/Ui*.resx</c>.</summary>
    public const string ResourcesPath = "Resources";

    /// <summary>The resources' manifest name: the one the SDK gives <c>Resources/Localization/Ui.resx</c>, which <see cref="IStringLocalizer{T}"/> reads too.</summary>
    internal const string ResourcesName = "ClipSearch.Web.Resources.Localization.Ui";

    private static readonly ResourceManager _english = new(ResourcesName, typeof(Ui).Assembly);

    private readonly IStringLocalizer<Ui> _strings;

    /// <summary>The strings of the current UI culture.</summary>
    public Ui(IStringLocalizer<Ui> strings)
    {
        _strings = strings;
        IsChinese = CultureInfo.CurrentUICulture.Name.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the UI is in Chinese.</summary>
    public bool IsChinese { get; }

    /// <summary>The page's lang attribute.</summary>
    public string Language => IsChinese ? "zh-CN" : "en";

    /// <summary>The string for <paramref name="key"/> (the key itself when there is none).</summary>
    public string this[string key] => _strings[key];

    /// <summary>
    /// An error for the page, worded by its code (<see cref="Core.ClipSearchException.Code"/>) in the page's language
    /// with the web's own advice (the Model tab, the API's fields), never a CLI flag; in English as the API gives it.
    /// </summary>
    public string Error(Exception error) =>
        ErrorWords.Describe(error, key => _strings[key] is { ResourceNotFound: false } found ? found.Value : null, CultureInfo.CurrentCulture);

    /// <summary>The English string for <paramref name="key"/> (the neutral resources), whatever the request's language; the key itself when there is none.</summary>
    public static string EnglishText(string key) => _english.GetString(key, CultureInfo.InvariantCulture) ?? key;

    /// <summary>An error as the API gives it: in English (the neutral resources), whatever the request's language.</summary>
    public static string English(Exception error) =>
        ErrorWords.Describe(error, key => _english.GetString(key, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
