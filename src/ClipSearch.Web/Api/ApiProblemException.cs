namespace ClipSearch.Web.Api;

/// <summary>
/// A request an API protocol refuses in its own terms (OpenAI's <c>model_not_found</c>, an Immich task ClipSearch
/// does not do): <see cref="ProblemMapping"/> answers it with <see cref="Status"/>, the message as the detail, and
/// <see cref="Param"/> and <see cref="Code"/> as the extensions <c>param</c> and <c>code</c>.
/// </summary>
internal sealed class ApiProblemException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>The request field at fault, when one is.</summary>
    public string? Param { get; } = param;

    /// <summary>The protocol's code for the error, when it has one.</summary>
    public string? Code { get; } = code;
}
