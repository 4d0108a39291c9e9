namespace ClipSearch.Core.Model;

/// <summary>Which encoders a <see cref="ClipModel"/> starts sessions for.</summary>
[Flags]
public enum Encoders
{
    /// <summary>The text encoder.</summary>
    Text = 1,

    /// <summary>The vision encoder.</summary>
    Vision = 2,

    /// <summary>Both (the default).</summary>
    Both = Text | Vision,
}

/// <summary>How to load and run a model; the defaults suit this machine.</summary>
public sealed record ModelOptions
{
    /// <summary>Weights to load (fp32, quantized, fp16).</summary>
    public ModelVariant Variant { get; init; } = ModelVariant.Fp32;

    /// <summary>Split or combined graphs; Auto prefers split.</summary>
    public ModelLayout Layout { get; init; } = ModelLayout.Auto;

    /// <summary>Encoders to start sessions for; a text-only command need not pay for the vision encoder.</summary>
    public Encoders Encoders { get; init; } = Encoders.Both;

    /// <summary>ONNX Runtime intra-op threads per session (default: one per core).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Images or texts per inference call (default 16: ONNX Runtime's throughput levels off around there).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Whether ONNX Runtime's idle worker threads spin. Off by default: spinning burns the cores that image decoding
    /// needs between batches; on gives slightly lower latency on an otherwise idle machine.
    /// </summary>
    public bool AllowSpinning { get; init; }

    /// <summary>
    /// Whether <see cref="ClipModel.EmbedTexts"/> batches texts of similar token length together (on by default), so
    /// that a batch pads little: the embeddings are the same either way (the text tower is causal and pools at the
    /// end token). Off keeps the texts' own order in batches, as before; the benchmarks compare the two.
    /// </summary>
    public bool SortTextsByLength { get; init; } = true;

    /// <summary>Checks <see cref="Threads"/> and <see cref="BatchSize"/> against <see cref="Limits"/> (what every front end accepts).</summary>
    /// <exception cref="ClipSearchException">One is out of range; the message says which and what is allowed.</exception>
    public void Validate()
    {
        Limits.CheckThreads(Threads);
        Limits.CheckBatchSize(BatchSize);
    }
}
