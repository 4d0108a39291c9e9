namespace ClipSearch.Hub;

/// <summary>
/// Where the Hugging Face Hub is and how to authenticate, as in huggingface_hub: <c>HF_ENDPOINT</c> replaces
/// https://huggingface.co (a mirror or a local server), <c>HF_TOKEN</c> is sent as <c>Authorization: Bearer</c>.
/// </summary>
public sealed record HubSettings
{
    /// <summary>The public Hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Environment variable that replaces <see cref="DefaultEndpoint"/>.</summary>
    public const string EndpointVariable = "HF_ENDPOINT";

    /// <summary>Environment variable holding an access token (private or gated repositories).</summary>
    public const string TokenVariable = "HF_TOKEN";

    /// <summary>Base address of the Hub, without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Access token, or null to download anonymously.</summary>
    public string? Token { get; init; }

    /// <summary>How long to wait for a connection before calling the Hub unreachable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a response may send nothing (headers or body) before the attempt is abandoned.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Settings from <c>HF_ENDPOINT</c> and <c>HF_TOKEN</c>.</summary>
    public static HubSettings FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable);
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        return new HubSettings
        {
            Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim().TrimEnd('/'),
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
        };
    }
}
