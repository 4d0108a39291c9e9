using System.CommandLine;
using System.Globalization;
using ClipSearch.Core;
using ClipSearch.Core.Imaging;

namespace ClipSearch.Cli.Commands;

/// <summary>
/// <c>--decode-budget-mb N</c> (serve, index): the most megabytes (MiB) of decoded pixels held at once by every
/// decoder of the process together (see <see cref="DecodeBudget"/>).
/// </summary>
internal sealed class DecodeBudgetOption
{
    public Option<long> Megabytes { get; } = new("--decode-budget-mb")
    {
        Description = "Most MB of decoded pixels held at once, all decoders together (at least about 7.6 per megapixel of --max-megapixels: one image and its rotated copy).",
        DefaultValueFactory = _ => DecodeBudget.DefaultCapacityBytes / DecodeBudget.BytesPerMegabyte,
    };

    public void AddTo(Command command) => command.Options.Add(Megabytes);

    /// <summary>The budget's bytes, refused with one line when it cannot hold one image of <paramref name="maxPixels"/>.</summary>
    public long Bytes(ParseResult result, long maxPixels)
    {
        var megabytes = result.GetValue(Megabytes);
        var minimum = (DecodeBudget.MinimumFor(Math.Max(0, maxPixels)) + DecodeBudget.BytesPerMegabyte - 1) / DecodeBudget.BytesPerMegabyte;
        if (megabytes < Math.Max(1, minimum) || megabytes > long.MaxValue / DecodeBudget.BytesPerMegabyte)
        {
            throw new ClipSearchException(string.Create(CultureInfo.InvariantCulture,
                $"--decode-budget-mb must be at least {Math.Max(1, minimum)}, what one {maxPixels / 1e6:0.###}-megapixel image needs with its rotated copy (got {megabytes})."));
        }

        return megabytes * DecodeBudget.BytesPerMegabyte;
    }
}
