using ClipSearch.Core;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Web.Services;

/// <summary>An uploaded file: its name as the browser sent it and its bytes.</summary>
/// <param name="FileName">The file name (display only; never used as a path).</param>
/// <param name="Bytes">The encoded image.</param>
public sealed record Upload(string FileName, byte[] Bytes)
{
    /// <summary>The MIME type of the upload (image/jpeg, image/heic, …), from its first bytes (<see cref="ImageFormats.Sniff(ReadOnlySpan{byte}, string?)"/>).</summary>
    /// <exception cref="ImageLoadException">The bytes do not start as an image ClipSearch reads.</exception>
    public string ContentType() =>
        ImageFormats.Sniff(Bytes, FileName)?.ContentType() ?? throw new ImageLoadException($"{FileName} is not an image ({ImageFormats.Readable}).");
}

/// <summary>data: URLs for images shown inside the UI (thumbnails, crops).</summary>
public static class DataUrls
{
    /// <summary>A data: URL for <paramref name="bytes"/> of <paramref name="contentType"/>.</summary>
    public static string Of(byte[] bytes, string contentType) => $"data:{contentType};base64,{Convert.ToBase64String(bytes)}";

    /// <summary>A data: URL for an image made here (a thumbnail, a crop), its type sniffed from its bytes.</summary>
    public static string Of(byte[] bytes) => Of(bytes, ImageFormats.ContentTypeOf(bytes));
}
