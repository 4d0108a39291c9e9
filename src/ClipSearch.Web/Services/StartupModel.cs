using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>Loads <see cref="ClipSearchOptions.ModelPath"/> before the server starts listening; a bad folder stops the start.</summary>
internal sealed class StartupModel(ModelHost host, IOptions<ClipSearchOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!string.IsNullOrWhiteSpace(settings.ModelPath))
        {
            await host.LoadAsync(settings.ModelPath, settings.Variant, settings.Threads, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
