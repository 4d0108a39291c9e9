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
    /// <summary>Creates the exception.</summary>
    public HubException(HubFailure failure, string message, Exception? innerException = null) : base(message, innerException) =>
        Failure = failure;

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public HubException() => Failure = HubFailure.Server;

    /// <summary>Creates the exception with a message (prefer the constructor with a <see cref="HubFailure"/>).</summary>
    public HubException(string message) : base(message) => Failure = HubFailure.Server;

    /// <summary>Creates the exception with a message and cause (prefer the constructor with a <see cref="HubFailure"/>).</summary>
    public HubException(string message, Exception? innerException) : base(message, innerException) => Failure = HubFailure.Server;

    /// <summary>What kind of failure this is.</summary>
    public HubFailure Failure { get; }

    /// <summary>The same failure with <paramref name="hint"/> appended to the message.</summary>
    public HubException WithHint(string hint) => new(Failure, $"{Message}\n{hint}", InnerException ?? this);
}
