using System.Text.Json;
using System.Text.Json.Serialization;
using ClipSearch.Core;
using ClipSearch.Library;

namespace ClipSearch.Web.Api;

/// <summary>
/// The filter fields of <c>/api/search</c> and the browse routes (<c>folder</c>, <c>from</c>, <c>to</c>, <c>types</c>,
/// <c>sort</c>), read by the library's own parsing (<see cref="LibraryFilter.Parse"/>, <see cref="LibrarySorts.Parse"/>),
/// so they mean what the CLI's <c>--in</c>, <c>--from</c>, <c>--to</c>, <c>--type</c> and <c>--sort</c> mean.
/// </summary>
internal static class FilterInput
{
    /// <summary>
    /// The filter: <paramref name="folders"/> absolute paths on the server (a folder and its subfolders), dates
    /// <c>YYYY-MM-DD</c>, <c>YYYY-MM</c> or <c>YYYY</c>, <paramref name="types"/> format names (comma-separated or repeated).
    /// </summary>
    /// <exception cref="ClipSearchException">A folder is relative, or a date or a type is not one.</exception>
    public static LibraryFilter Parse(IEnumerable<string>? folders, string? from, string? to, IEnumerable<string>? types)
    {
        // A relative folder would be read against the server's working directory: never what a client means.
        if (folders?.FirstOrDefault(f => !string.IsNullOrWhiteSpace(f) && !Path.IsPathFullyQualified(f)) is { } relative)
        {
            throw new ClipSearchException(WebErrorCodes.FilterRelativeFolder,
                $"The folder '{relative}' is not an absolute path: give a folder on the server as GET /api/library/folders/tree lists them.", [relative]);
        }

        return LibraryFilter.Parse(folders, from, to, types);
    }

    /// <summary>The form's filter fields.</summary>
    public static (LibraryFilter Filter, LibrarySort Sort) Parse(IFormCollection form) =>
        (Parse(form["folder"].OfType<string>(), form["from"], form["to"], form["types"].OfType<string>()), LibrarySorts.Parse(form["sort"]));
}

/// <summary>A JSON field that holds a string or an array of strings (<c>"folder": "/a"</c> or <c>"folder": ["/a", "/b"]</c>).</summary>
internal sealed class StringOrArrayConverter : JsonConverter<IReadOnlyList<string>>
{
    /// <inheritdoc/>
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return [reader.GetString()!];
            case JsonTokenType.StartArray:
                var items = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("expected strings in the array"));
                }

                return items;
            default:
                throw new JsonException("expected a string or an array of strings");
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
