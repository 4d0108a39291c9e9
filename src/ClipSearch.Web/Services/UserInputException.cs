using ClipSearch.Core;

namespace ClipSearch.Web.Services;

/// <summary>
/// A common input mistake (no image, a file over the limit, no texts…) with a stable <see cref="Code"/> and the
/// values in its message, so the UI can say it in the page's language; the API shows <see cref="Exception.Message"/>
/// (English) as it is.
/// </summary>
public sealed class UserInputException : ClipSearchException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">A key such as <c>no-text</c> (see <see cref="Localization.Strings.ChineseErrors"/>).</param>
    /// <param name="message">The English message.</param>
    /// <param name="arguments">The values the message names, in the order the translations use them.</param>
    public UserInputException(string code, string message, params object[] arguments) : base(message)
    {
        Code = code;
        Arguments = arguments;
    }

    /// <summary>Creates the exception with no code (prefer the other constructor).</summary>
    public UserInputException() : this("other", "Bad input.") { }

    /// <summary>Creates the exception with a message and no code (prefer the other constructor).</summary>
    public UserInputException(string message) : this("other", message) { }

    /// <summary>Creates the exception with a message, a cause and no code (prefer the other constructor).</summary>
    public UserInputException(string message, Exception? innerException) : base(message, innerException)
    {
        Code = "other";
        Arguments = [];
    }

    /// <summary>What went wrong, as a key.</summary>
    public string Code { get; }

    /// <summary>The values the message names.</summary>
    public IReadOnlyList<object> Arguments { get; }
}
