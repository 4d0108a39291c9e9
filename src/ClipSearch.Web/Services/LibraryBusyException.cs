using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>The library is busy with an indexing run (HTTP 409).</summary>
public sealed class LibraryBusyException : ClipSearchException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public LibraryBusyException()
        : base("The library is already indexing; wait for it to finish or stop it (POST /api/library/index/stop).")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public LibraryBusyException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public LibraryBusyException(string message, Exception? innerException) : base(message, innerException) { }
}
