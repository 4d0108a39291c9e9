namespace ClipSearch.Core;

/// <summary>
/// An error a user can cause (a missing model file, an unreadable image, bad input), as a fact: a stable
/// <see cref="Code"/> (one of <see cref="ErrorCodes"/>), the values it names (<see cref="Arguments"/>, in the order
/// that code documents), and an English <see cref="Exception.Message"/> that names the file or value and the
/// problem, with no advice tied to one front end (no command-line flag, no web page). Front ends word it: the CLI
/// adds its flags as advice, the web its tabs and fields, in English or Chinese. They map it to an exit code or a
/// 400/503, never to a stack trace.
/// </summary>
public class ClipSearchException : Exception
{
    /// <summary>Creates the exception with a code, the English fact, the values it names and the cause.</summary>
    /// <param name="code">What went wrong: one of <see cref="ErrorCodes"/> (or a front end's own codes).</param>
    /// <param name="message">The fact in English: the file or value and the problem, without advice for one front end.</param>
    /// <param name="arguments">The values the message names, in the order the code documents; none when null.</param>
    /// <param name="innerException">The underlying cause.</param>
    public ClipSearchException(string code, string message, IReadOnlyList<object>? arguments = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
        Arguments = arguments ?? [];
    }

    /// <summary>Creates the exception with a message and <see cref="ErrorCodes.Other"/> (prefer a code).</summary>
    public ClipSearchException(string message) : this(ErrorCodes.Other, message) { }

    /// <summary>Creates the exception with a message, the cause and <see cref="ErrorCodes.Other"/> (prefer a code).</summary>
    public ClipSearchException(string message, Exception? innerException) : this(ErrorCodes.Other, message, null, innerException) { }

    /// <summary>Creates the exception with no message and <see cref="ErrorCodes.Other"/> (prefer the other constructors).</summary>
    public ClipSearchException() : this(ErrorCodes.Other, "ClipSearch failed.") { }

    /// <summary>What went wrong, as a stable key: one of <see cref="ErrorCodes"/> (or a front end's own codes).</summary>
    public string Code { get; }

    /// <summary>The values the message names, in the order <see cref="Code"/> documents (empty for the broad codes).</summary>
    public IReadOnlyList<object> Arguments { get; }
}

/// <summary>A model folder that is missing, incomplete, corrupt or does not match itself.</summary>
public sealed class ModelLoadException : ClipSearchException
{
    /// <summary>Creates the exception with a message that names the file and the problem (<see cref="ErrorCodes.ModelLoad"/>).</summary>
    public ModelLoadException(string message, Exception? innerException = null) : base(ErrorCodes.ModelLoad, message, null, innerException) { }

    /// <summary>Creates the exception with a more precise code than <see cref="ErrorCodes.ModelLoad"/> and the values it names.</summary>
    public ModelLoadException(string code, string message, IReadOnlyList<object> arguments, Exception? innerException = null)
        : base(code, message, arguments, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public ModelLoadException() : this("The model does not load.") { }
}

/// <summary>An image that cannot be used: empty, truncated, not an image, too large, unsupported.</summary>
public sealed class ImageLoadException : ClipSearchException
{
    /// <summary>Creates the exception with a message that names the image and the problem (<see cref="ErrorCodes.NotImage"/>).</summary>
    public ImageLoadException(string message, Exception? innerException = null) : base(ErrorCodes.NotImage, message, null, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public ImageLoadException() : this("The image cannot be used.") { }
}
