using System.Text.Json.Serialization;
using ClipSearch.Core.Similarity;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>What the idle warming of the presets is doing.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PresetWarmState>))]
public enum PresetWarmState
{
    /// <summary>Not enabled (<see cref="ClipSearchOptions.WarmPresets"/> is off).</summary>
    Off,

    /// <summary>No model is loaded.</summary>
    NoModel,

    /// <summary>Waiting until no request has held the model for <see cref="PresetWarmer.IdleBefore"/>.</summary>
    WaitingForIdle,

    /// <summary>Embedding a preset's prompts, one small step at a time.</summary>
    Warming,

    /// <summary>Every preset's default templates are in the disk cache for the loaded model.</summary>
    Done,

    /// <summary>The last step failed (see the log); it is tried again later.</summary>
    Failed,
}

/// <summary>The idle warming's state for <c>GET /api/model</c> and the Model tab.</summary>
/// <param name="State">What it is doing.</param>
/// <param name="Preset">The preset being (or last) warmed.</param>
/// <param name="PromptsDone">Its prompts embedded so far.</param>
/// <param name="PromptsTotal">Its prompts.</param>
/// <param name="PresetsWarm">Presets whose default templates are in the disk cache for the loaded model.</param>
/// <param name="PresetsTotal">Presets.</param>
/// <param name="PromptsPerStep">Prompts embedded per step (one inference batch); a request waits at most for one step.</param>
/// <param name="IdleSeconds">Seconds without a request before a step starts.</param>
public sealed record PresetWarmStatus(PresetWarmState State, string? Preset, int PromptsDone, int PromptsTotal, int PresetsWarm, int PresetsTotal,
    int PromptsPerStep, double IdleSeconds);

/// <summary>
/// Fills the disk cache of the presets' label embeddings (default templates, smallest preset first) while the server
/// is idle, so that their first use reads it. It never runs beside a request: a step starts only when no request
/// has held the model for <see cref="IdleBefore"/> and no request is embedding labels, a step is one inference batch
/// (<see cref="PromptsPerStep"/> prompts, through the same model), and a request taking the model stops the warming
/// before its next step (what was done is kept: <see cref="LabelEmbeddingCache.PartialSuffix"/>). Off by default
/// (<see cref="ClipSearchOptions.WarmPresets"/>, <c>clipsearch serve --warm-presets</c>).
/// </summary>
public sealed class PresetWarmer(ModelHost host, ZeroShotLabels labels, IOptions<ClipSearchOptions> options, ILogger<PresetWarmer> log) : BackgroundService
{
    /// <summary>Prompts per step: one batch of the model's default batch size.</summary>
    public const int PromptsPerStep = 16;

    /// <summary>How long no request must have held the model before warming starts or resumes.</summary>
    public static readonly TimeSpan IdleBefore = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly bool _enabled = options.Value.WarmPresets;
    private volatile PresetWarmStatus _status = new(options.Value.WarmPresets ? PresetWarmState.NoModel : PresetWarmState.Off, null, 0, 0, 0, ZeroShotPresets.All.Count, PromptsPerStep, IdleBefore.TotalSeconds);

    /// <summary>Raised when the state changes (and after each step).</summary>
    public event Action? Changed;

    /// <summary>The state now.</summary>
    public PresetWarmStatus Status => _status;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_enabled)
        {
            return;
        }

        var order = ZeroShotPresets.All.Values.OrderBy(p => p.Prompts(TemplateSet.Default)).ThenBy(p => p.Name, StringComparer.Ordinal).ToArray();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, stoppingToken).ConfigureAwait(false);
                await StepAsync(order, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task StepAsync(ZeroShotPreset[] order, CancellationToken stoppingToken)
    {
        if (!host.IsLoaded)
        {
            Set(_status with { State = PresetWarmState.NoModel, PresetsWarm = 0 });
            return;
        }

        ModelLease lease;
        try
        {
            lease = host.AcquireForBackground();
        }
        catch (ModelNotLoadedException)
        {
            return;
        }

        using (lease)
        {
            var loaded = lease.Loaded;
            var cold = order.Where(p => !labels.IsCached(loaded, p, TemplateSet.Default)).ToArray();
            var warm = order.Length - cold.Length;
            if (cold.Length == 0)
            {
                Set(_status with { State = PresetWarmState.Done, PresetsWarm = warm, Preset = null, PromptsDone = 0, PromptsTotal = 0 });
                return;
            }

            var preset = cold[0];
            if (host.RequestsInFlight > 0 || host.IdleFor < IdleBefore)
            {
                Set(_status with { State = PresetWarmState.WaitingForIdle, PresetsWarm = warm });
                return;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            void RequestStarted() => stop.Cancel();
            host.RequestStarted += RequestStarted;
            try
            {
                // A request that came in before the handler was added.
                if (host.RequestsInFlight > 0 || loaded.Retired)
                {
                    return;
                }

                Set(_status with { State = PresetWarmState.Warming, Preset = preset.Name, PresetsWarm = warm, PromptsDone = 0, PromptsTotal = preset.Prompts(TemplateSet.Default) });
                var progress = new StepProgress(this, loaded, stop);
                if (!await labels.WarmAsync(loaded, preset, TemplateSet.Default, PromptsPerStep, progress, stop.Token).ConfigureAwait(false))
                {
                    Set(_status with { State = PresetWarmState.WaitingForIdle });
                }
                else
                {
                    log.LogInformation("Warmed the zero-shot preset {Preset} ({Prompts} prompts) while idle", preset.Name, preset.Prompts(TemplateSet.Default));
                    Set(_status with { PresetsWarm = warm + 1, PromptsDone = _status.PromptsTotal });
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                Set(_status with { State = PresetWarmState.WaitingForIdle });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Warming the zero-shot preset {Preset} failed", preset.Name);
                Set(_status with { State = PresetWarmState.Failed });
            }
            finally
            {
                host.RequestStarted -= RequestStarted;
            }
        }
    }

    private void Set(PresetWarmStatus status)
    {
        if (status != _status)
        {
            _status = status;
            Changed?.Invoke();
        }
    }

    // After each step: the state, and a stop when the model was unloaded or replaced meanwhile.
    private sealed class StepProgress(PresetWarmer warmer, LoadedModel loaded, CancellationTokenSource stop) : IProgress<ZeroShotProgress>
    {
        public void Report(ZeroShotProgress value)
        {
            warmer.Set(warmer._status with { PromptsDone = value.PromptsDone, PromptsTotal = value.PromptsTotal });
            if (loaded.Retired)
            {
                stop.Cancel();
            }
        }
    }
}
