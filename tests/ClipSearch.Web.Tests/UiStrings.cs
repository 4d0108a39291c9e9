using System.Collections;
using System.Globalization;
using System.Resources;
using ClipSearch.Web.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Tests;

/// <summary>The UI's strings as the app reads them: a <see cref="Ui"/> over ASP.NET Core's localizer, and each language's resources.</summary>
internal static class UiStrings
{
    /// <summary>A <see cref="Ui"/> for the current UI culture, as a page gets it.</summary>
    public static Ui Create() =>
        new(new StringLocalizer<Ui>(new ResourceManagerStringLocalizerFactory(
            Options.Create(new LocalizationOptions { ResourcesPath = Ui.ResourcesPath }), NullLoggerFactory.Instance)));

    /// <summary>The English strings (the neutral resources), by key.</summary>
    public static IReadOnlyDictionary<string, string> English { get; } = Read(CultureInfo.InvariantCulture);

    /// <summary>The Chinese strings (the zh-CN satellite only, no fallback to English), by key.</summary>
    public static IReadOnlyDictionary<string, string> Chinese { get; } = Read(CultureInfo.GetCultureInfo("zh-CN"));

    private static Dictionary<string, string> Read(CultureInfo culture)
    {
        var set = new ResourceManager(Ui.ResourcesName, typeof(Ui).Assembly).GetResourceSet(culture, createIfNotExists: true, tryParents: false)
            ?? throw new MissingSatelliteAssemblyException($"No {culture.Name} resources for {Ui.ResourcesName}.");
        return set.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!, StringComparer.Ordinal);
    }
}
