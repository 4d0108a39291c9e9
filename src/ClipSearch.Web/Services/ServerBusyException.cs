using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>The server cannot take the request now for lack of room, and can later (HTTP 503 with <c>Retry-After</c>).</summary>
public sealed class ServerBusyException : ClipSearchException
{
    /// <summary>Creates the exception with a message and when to try again.</summary>
    public ServerBusyException(string message, TimeSpan retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>Creates the exception with a message (try again in a few seconds).</summary>
    public ServerBusyException(string message) : this(message, TimeSpan.FromSeconds(5)) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ServerBusyException(string message, Exception? innerException) : base(message, innerException) => RetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public ServerBusyException() : this("The server is busy; try again shortly.") { }

    /// <summary>How long a client should wait before it tries again.</summary>
    public TimeSpan RetryAfter { get; }
}
