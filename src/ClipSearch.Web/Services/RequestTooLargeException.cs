using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>A request over one of the server's own size limits, said in its words (HTTP 413).</summary>
public sealed class RequestTooLargeException : ClipSearchException
{
    /// <summary>Creates the exception with a message that names the limit.</summary>
    public RequestTooLargeException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public RequestTooLargeException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public RequestTooLargeException() { }
}
