using System.CommandLine;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Cli.Commands;

/// <summary>Options on how images are read, shared by embed and match.</summary>
internal sealed class ImageOptions
{
    public Option<bool> Exact { get; } = new("--exact") { Description = "Always decode at full size (no reduced-DCT fast path for large JPEGs)." };

    public Option<bool> NoExif { get; } = new("--no-exif") { Description = "Ignore EXIF orientation (as openai/CLIP and transformers do)." };

    public Option<long> MaxMegapixels { get; } = new("--max-megapixels")
    {
        Description = "Refuse images larger than this, before decoding them.",
        DefaultValueFactory = _ => 100,
    };

    public Option<int> Decoders { get; } = new("--decoders") { Description = "Image decoding threads (default: one per core; they take turns with inference when together they ask for more cores than there are)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Exact);
        command.Options.Add(NoExif);
        command.Options.Add(MaxMegapixels);
        command.Options.Add(Decoders);
    }

    /// <summary>The options as given, checked (a limit of 0 megapixels would refuse every image).</summary>
    public ImageLoadOptions LoadOptions(ParseResult result) => new()
    {
        Exact = result.GetValue(Exact),
        ApplyExifOrientation = !result.GetValue(NoExif),
        MaxPixels = Core.Limits.CheckMegapixels(result.GetValue(MaxMegapixels)) * 1_000_000,
    };

    /// <summary>--decoders as given (checked: 1 to <see cref="Core.Limits.MaxThreads"/>), or 0 when left out (the default).</summary>
    public int DecoderThreads(ParseResult result) =>
        result.GetResult(Decoders) is { Implicit: false } ? Core.Limits.CheckThreads(result.GetValue(Decoders), "decoding threads") : 0;

    /// <summary>Checks every image option, before a command does anything.</summary>
    public void Validate(ParseResult result)
    {
        _ = LoadOptions(result);
        _ = DecoderThreads(result);
    }
}
