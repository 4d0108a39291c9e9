using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Hub;

namespace ClipSearch.Web.Localization;

/// <summary>
/// Words an error for the web (the page and the API) from its code: the template <c>error.CODE</c> of the
/// language, formatted with the English fact as {0} and the values the code names as {1}…; a download's hint
/// (<see cref="HubException.Hint"/>) follows on its own line. An exception that is not a
/// <see cref="ClipSearchException"/> is worded as <see cref="ErrorCodes.Other"/> with its message.
/// </summary>
internal static class ErrorWords
{
    /// <summary>The key of <paramref name="code"/>'s template in the UI's strings.</summary>
    public static string Key(string code) => $"error.{code}";

    /// <summary>
    /// <paramref name="error"/> in the words of <paramref name="templates"/> (a code's template, or null when the
    /// language has none: then the template of <see cref="ErrorCodes.Other"/>).
    /// </summary>
    public static string Describe(Exception error, Func<string, string?> templates, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(templates);
        var coded = error as ClipSearchException;
        var fact = coded is HubException hub ? hub.Fact : error.Message;
        var template = coded is null ? null : templates(Key(coded.Code));
        var words = template is null
            ? string.Format(culture, templates(Key(ErrorCodes.Other)) ?? "{0}", fact)
            : string.Format(culture, template, [fact, .. coded!.Arguments]);
        return coded is HubException { Hint: { } hint } ? $"{words}\n{hint}" : words;
    }
}
