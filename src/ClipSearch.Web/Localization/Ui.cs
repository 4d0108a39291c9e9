using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Web.Services;

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
    /// An error for the page: in English the exception's message as the API gives it; in Chinese the common
    /// mistakes (<see cref="UserInputException"/>, no model, an unusable image, a model that does not load) in
    /// Chinese — with the English detail where it names a file or a cause — and anything else after a Chinese lead.
    /// </summary>
    public string Error(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!IsChinese)
        {
            return error.Message;
        }

        var (code, arguments) = error switch
        {
            UserInputException input when Strings.ChineseErrors.ContainsKey(input.Code) => (input.Code, input.Arguments.ToArray()),
            ModelNotLoadedException => ("no-model", []),
            ImageLoadException => ("not-image", [error.Message]),
            ModelLoadException => ("model-load", [error.Message]),
            _ => ("other", new object[] { error.Message }),
        };
        return string.Format(CultureInfo.CurrentCulture, Strings.ChineseErrors[code], arguments);
    }
}
