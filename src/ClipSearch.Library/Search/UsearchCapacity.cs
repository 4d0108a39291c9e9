using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace ClipSearch.Library.Search;

/// <summary>
/// Reserves capacity in a <see cref="USearchIndex"/>: the C# wrapper (2.26) grows its index one call at a time and
/// has no public reserve, which rules out adding from several threads. This calls the C library's
/// <c>usearch_reserve</c> on the wrapper's handle; when the handle cannot be found (another wrapper version)
/// it answers false and additions stay on one thread.
/// </summary>
internal static partial class UsearchCapacity
{
    private static readonly FieldInfo? _handle = typeof(USearchIndex).GetField("_index", BindingFlags.Instance | BindingFlags.NonPublic);

    public static bool TryReserve(USearchIndex index, long capacity)
    {
        if (_handle?.GetValue(index) is not IntPtr handle || handle == IntPtr.Zero)
        {
            return false;
        }

        try
        {
            Reserve(handle, (nuint)capacity, out var error);
            return error == IntPtr.Zero;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libusearch_c", EntryPoint = "usearch_reserve")]
    private static partial void Reserve(IntPtr index, nuint capacity, out IntPtr error);
}
