using System.Globalization;

namespace ClipSearch.Web;

/// <summary>Sizes in the server's messages, in the units its settings use (MiB, written MB).</summary>
internal static class Sizes
{
    private const double BytesPerMegabyte = 1024 * 1024;

    /// <summary>"12.5 MB" (MiB) from a megabyte up, else "512 bytes".</summary>
    public static string Megabytes(long bytes) => bytes >= BytesPerMegabyte
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / BytesPerMegabyte:0.#} MB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes");
}
