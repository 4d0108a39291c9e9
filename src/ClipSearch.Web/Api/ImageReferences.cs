using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ClipSearch.Web.Api;

/// <summary>
/// Images given inside a JSON request (<c>POST /v1/embeddings</c>): a base64 <c>data:</c> URL
/// (<c>data:image/jpeg;base64,…</c>; the media type is not trusted: the bytes are sniffed, as every upload's), bare
/// base64 (as Jina accepts), or an <c>http(s)</c> URL (<see cref="Services.RemoteImages"/> decides). The base64 is
/// decoded from the request's own UTF-8 bytes, so an image costs its bytes once more, not a UTF-16 copy too.
/// </summary>
internal static class ImageReferences
{
    /// <summary>The bytes of an image given in the request, or the remote URL it names (and null bytes).</summary>
    /// <exception cref="ApiProblemException">Not base64, not a base64 data: URL, another scheme, or over <paramref name="maxBytes"/> (400).</exception>
    public static (byte[]? Bytes, Uri? Remote) Read(JsonElement value, string name, long maxBytes)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        // The string without its quotes; a JSON escape (such as "\/", which some encoders write for '/') needs the
        // decoded string instead.
        ReadOnlySpan<byte> utf8 = raw.IndexOf((byte)'\\') < 0 ? raw[1..^1] : System.Text.Encoding.UTF8.GetBytes(value.GetString()!);
        if (StartsWith(utf8, "data:"u8))
        {
            var comma = utf8.IndexOf((byte)',');
            ReadOnlySpan<byte> meta = comma < 0 ? [] : utf8[..comma];
            if (comma < 0 || !EndsWith(meta, ";base64"u8))
            {
                throw Bad($"{name} is a data: URL without base64 ({Shown(utf8)}): send data:image/…;base64,….");
            }

            return (Decode(utf8[(comma + 1)..], name, maxBytes), null);
        }

        if (StartsWith(utf8, "http://"u8) || StartsWith(utf8, "https://"u8))
        {
            return Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? (null, uri)
                : throw Bad($"{name} is not a valid URL ({Shown(utf8)}).");
        }

        if (utf8.IndexOf((byte)':') is var colon and > 0 and < 16)
        {
            throw Bad($"{name} is a URL of another kind ({Shown(utf8)}): give a data:image/…;base64,… URL.");
        }

        return (Decode(utf8, name, maxBytes), null);
    }

    private static byte[] Decode(ReadOnlySpan<byte> base64, string name, long maxBytes)
    {
        base64 = base64.Trim(" \t\r\n"u8);
        if (base64.IsEmpty)
        {
            throw Bad($"{name} is empty: give the image as data:image/…;base64,….");
        }

        var padding = base64.EndsWith("=="u8) ? 2 : base64.EndsWith("="u8) ? 1 : 0;
        var length = (long)base64.Length / 4 * 3 - padding;
        if (length > maxBytes)
        {
            throw Bad($"{name} is {Sizes.Megabytes(length)}; the limit is {Sizes.Megabytes(maxBytes)} per image.", "too-large");
        }

        if (base64.Length % 4 != 0)
        {
            throw Bad($"{name} is not valid base64 (its length, {base64.Length:N0} characters, is not a multiple of 4): give the image as data:image/…;base64,….");
        }

        var bytes = new byte[length];
        var status = Base64.DecodeFromUtf8(base64, bytes, out _, out var written);
        return status == System.Buffers.OperationStatus.Done && written == bytes.Length
            ? bytes
            : throw Bad($"{name} is not valid base64: give the image as data:image/…;base64,… (standard base64, not URL-safe).");
    }

    private static bool StartsWith(ReadOnlySpan<byte> text, ReadOnlySpan<byte> prefix) =>
        text.Length >= prefix.Length && System.Text.Ascii.EqualsIgnoreCase(text[..prefix.Length], prefix);

    private static bool EndsWith(ReadOnlySpan<byte> text, ReadOnlySpan<byte> suffix) =>
        text.Length >= suffix.Length && System.Text.Ascii.EqualsIgnoreCase(text[^suffix.Length..], suffix);

    // The start of a value, as an error shows it (only errors pay for the string).
    private static string Shown(ReadOnlySpan<byte> utf8) => Shorten(System.Text.Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, 400)]));

    /// <summary>A URL as an error may show it: at most 100 characters.</summary>
    public static string Shorten(string text) => text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 97), "…");

    private static ApiProblemException Bad(string message, string? code = null) => new(StatusCodes.Status400BadRequest, message, "input", code);
}
