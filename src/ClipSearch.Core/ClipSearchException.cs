namespace ClipSearch.Core;

/// <summary>
/// An error a user can cause (a missing model file, an unreadable image, bad input). Its message is meant to be
/// shown as it is: it names the file or value and the problem. Front ends map it to an exit code or a 400/503,
/// never to a stack trace.
/// </summary>
public class ClipSearchException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public ClipSearchException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and the underlying cause.</summary>
    public ClipSearchException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public ClipSearchException() { }
}

/// <summary>A model folder that is missing, incomplete, corrupt or does not match itself.</summary>
public sealed class ModelLoadException : ClipSearchException
{
    /// <summary>Creates the exception with a message that names the file and the problem.</summary>
    public ModelLoadException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public ModelLoadException() { }
}

/// <summary>An image that cannot be used: empty, truncated, not an image, too large, unsupported.</summary>
public sealed class ImageLoadException : ClipSearchException
{
    /// <summary>Creates the exception with a message that names the image and the problem.</summary>
    public ImageLoadException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public ImageLoadException() { }
}
