using System.Diagnostics;
using System.Text.Json;

namespace ClipSearch.Web.Tests;

/// <summary>
/// What one decode takes from the decode budget against what it really holds: the resident growth of a child process
/// (ClipSearch.MemoryProbe: VmHWM after resetting it, see its Program.cs) that decodes one image file made here, in
/// every layout whose codec keeps more than the decoded pixels. For a file the charge includes its encoded bytes.
/// </summary>
public sealed class DecodeMemoryTests
{
    private const int Width = 3000, Height = 2000;

    /// <summary>Past what the charge may go over the growth without the test calling the formula too generous.</summary>
    private const long Slack = 12L * 1024 * 1024;

    public static TheoryData<string, string> KindsAndModes() => new()
    {
        // The codec keeps a whole-image buffer: libjpeg's coefficients (even at 1/8 scale), libpng's interlaced
        // image, libwebp's ARGB.
        { "jpeg-progressive-444", "crop-file" },
        { "jpeg-progressive-444", "crop-file exact" },
        { "jpeg-progressive-444", "thumbnail-file" },
        { "jpeg-progressive-420", "crop-file" },
        { "jpeg-progressive-grey", "crop-file" },
        { "jpeg-multiscan-444", "crop-file" },
        { "png-rgba16-interlaced", "crop-file" },
        { "png-rgba16-interlaced", "thumbnail-file" },
        { "png-rgb8-interlaced", "crop-file" },
        { "png-grey8-interlaced", "crop" },
        { "webp-lossless", "crop-file" },
        { "webp-lossless", "thumbnail-file" },

        // Row by row: the decoded pixels (and the file's bytes) are what there is.
        { "jpeg-baseline-444", "crop-file exact" },
        { "png-rgb8", "crop-file" },
        { "png-rgba16", "thumbnail-file" },
        { "gif", "crop-file" },
        { "gif", "thumbnail-file" },
        { "bmp24", "crop-file" },
        { "webp-lossy", "crop-file" },
        { "webp-lossy-alpha", "crop-file" },
    };

    [Theory]
    [MemberData(nameof(KindsAndModes))]
    public async Task Decode_ChargesAtLeastWhatTheProcessGrowsBy(string kind, string mode)
    {
        using var folder = new TempFolder();
        var file = folder.File(kind + ".img");
        await File.WriteAllBytesAsync(file, ImageKinds.All[kind](Width, Height));
        var modeArgs = mode.Split(' ');

        var (charged, growth) = await ProbeAsync(modeArgs[0], file, modeArgs[1..]);

        Assert.True(growth <= charged, $"{kind} {mode}: the process grew by {Mb(growth)}, the budget was charged {Mb(charged)}");
        // Not by charging everything: the formulas follow the codecs (a lossy WebP with alpha is counted for the
        // worst stream its alpha may be in, 4 bytes a pixel more than this one's).
        var slack = kind == "webp-lossy-alpha" ? Slack + (4L * Width * Height) : Slack;
        Assert.True(charged <= growth + slack, $"{kind} {mode}: charged {Mb(charged)} for a growth of {Mb(growth)}");
    }

    // Without the codec's buffer in the charge, these would fail: the decode holds several times its pixels.
    [Theory]
    [InlineData("jpeg-progressive-444", "crop-file", 6.0)]   // 3 components × 2 bytes, at 1/4 scale: pixels are ~1/16 of that
    [InlineData("png-rgba16-interlaced", "crop-file", 8.0)]
    public async Task Decode_CodecBuffersAreThere(string kind, string mode, double bytesPerPixel)
    {
        using var folder = new TempFolder();
        var file = folder.File(kind + ".img");
        await File.WriteAllBytesAsync(file, ImageKinds.All[kind](Width, Height));

        var (charged, growth) = await ProbeAsync(mode, file, []);

        Assert.True(growth >= bytesPerPixel * Width * Height * 0.95, $"{kind}: grew by {Mb(growth)} only");
        Assert.True(growth <= charged, $"{kind}: grew by {Mb(growth)}, charged {Mb(charged)}");
    }

    private static string Mb(long bytes) => $"{bytes / 1e6:0.0} MB";

    private static async Task<(long Charged, long Growth)> ProbeAsync(string mode, string file, string[] options)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ClipSearch.MemoryProbe.dll"));
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(file);
        foreach (var option in options)
        {
            start.ArgumentList.Add(option);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"the probe failed: {await stderr}");
        using var result = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]);
        return (result.RootElement.GetProperty("charged").GetInt64(), result.RootElement.GetProperty("growth").GetInt64());
    }
}
