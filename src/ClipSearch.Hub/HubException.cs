using ClipSearch.Core;

namespace ClipSearch.Hub;

/// <summary>Why a Hub request or a download failed.</summary>
public enum HubFailure
{
    /// <summary>The Hub could not be reached: no network, the name does not resolve, the connection was refused or timed out.</summary>
    Unreachable,

    /// <summary>401/403: the repository is private or gated, does not exist, or the token was refused.</summary>
    Unauthorized,

    /// <summary>404: the repository, revision or file does not exist.</summary>
    NotFound,

    /// <summary>The Hub answered with another error status (5xx, 429, …) or the transfer kept breaking.</summary>
    Server,

    /// <summary>A file arrived with the wrong size or sha256 (it was not kept).</summary>
    Verification,

    /// <summary>The files arrived but the folder does not load as a CLIP model.</summary>
    Load,
}

/// <summary>A download problem with a message for the user; front ends show it as it is (never a stack trace).</summary>
public sealed class HubException : ClipSearchException
{
    /// <summary>Creates the exception with the broad code of <paramref name="failure"/> (<see cref="ErrorCodes.HubUnreachable"/> and so on).</summary>
    public HubException(HubFailure failure, string message, Exception? innerException = null)
        : this(failure, CodeOf(failure), message, [], innerException) { }

    /// <summary>Creates the exception with a more precise code than the failure's broad one and the values it names.</summary>
    public HubException(HubFailure failure, string code, string message, IReadOnlyList<object> arguments, Exception? innerException = null)
        : base(code, message, arguments, innerException) =>
        Failure = failure;

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public HubException() : this(HubFailure.Server, "The download failed.") { }

    /// <summary>Creates the exception with a message (prefer the constructor with a <see cref="HubFailure"/>).</summary>
    public HubException(string message) : this(HubFailure.Server, message) { }

    /// <summary>Creates the exception with a message and cause (prefer the constructor with a <see cref="HubFailure"/>).</summary>
    public HubException(string message, Exception? innerException) : this(HubFailure.Server, message, innerException) { }

    /// <summary>What kind of failure this is.</summary>
    public HubFailure Failure { get; }

    /// <summary>
    /// How to get the model another way (<see cref="WithHint"/>), or null. <see cref="Exception.Message"/> ends with
    /// it, on a line of its own after <see cref="Fact"/>.
    /// </summary>
    public string? Hint { get; private init; }

    /// <summary>The message without <see cref="Hint"/>: what failed, where a front end puts its own advice.</summary>
    public string Fact => Hint is null ? Message : Message[..^(Hint.Length + 1)];

    /// <summary>The broad code of a failure: <see cref="ErrorCodes.HubUnreachable"/> and so on.</summary>
    private static string CodeOf(HubFailure failure) => failure switch
    {
        HubFailure.Unreachable => ErrorCodes.HubUnreachable,
        HubFailure.Unauthorized => ErrorCodes.HubUnauthorized,
        HubFailure.NotFound => ErrorCodes.HubNotFound,
        HubFailure.Verification => ErrorCodes.HubVerification,
        HubFailure.Load => ErrorCodes.HubLoad,
        _ => ErrorCodes.HubServer,
    };

    /// <summary>The same failure, code and values with <paramref name="hint"/> (<see cref="Hint"/>) on a line after the message.</summary>
    public HubException WithHint(string hint) => new(Failure, Code, $"{Fact}\n{hint}", Arguments, InnerException ?? this) { Hint = hint };
}
