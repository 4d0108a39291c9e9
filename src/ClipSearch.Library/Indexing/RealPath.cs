using System.Runtime.InteropServices;

namespace ClipSearch.Library.Indexing;

/// <summary>
/// A path with every symbolic link, <c>.</c> and <c>..</c> resolved, as the system resolves it (<c>realpath(3)</c>):
/// what a walk confined to some folders compares with them. Linux only, as the application.
/// </summary>
internal static partial class RealPath
{
    /// <summary>The real path of <paramref name="path"/>, or null when it cannot be resolved (it does not exist, a link dangles or loops, a folder on the way may not be searched).</summary>
    public static string? Of(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var resolved = Resolve(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies below it (both absolute, normalised).</summary>
    public static bool IsUnder(string path, string folder) =>
        path.Equals(folder, StringComparison.Ordinal)
        || path.StartsWith(folder.EndsWith('/') ? folder : folder + "/", StringComparison.Ordinal);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Resolve(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);
}
