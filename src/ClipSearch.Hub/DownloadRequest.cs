using ClipSearch.Core;
using ClipSearch.Core.Model;

namespace ClipSearch.Hub;

/// <summary>What <see cref="ModelDownloader"/> fetches and where to.</summary>
public sealed record DownloadRequest
{
    /// <summary>The repository (default Xenova/clip-vit-base-patch32).</summary>
    public HubRepo Repo { get; init; } = HubRepo.Default;

    /// <summary>Branch, tag or commit.</summary>
    public string Revision { get; init; } = "main";

    /// <summary>The weights to fetch; see <see cref="ParseVariants"/>.</summary>
    public IReadOnlyList<ModelVariant> Variants { get; init; } = [ModelVariant.Fp32];

    /// <summary>Target folder; null: the repository's folder in the <see cref="ModelStore"/>.</summary>
    public string? Directory { get; init; }

    /// <summary>Load the finished folder with ClipModel to prove it works (on by default).</summary>
    public bool VerifyLoad { get; init; } = true;

    /// <summary>Attempts per file when the transfer breaks off; each attempt resumes where the last stopped.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Pause before another attempt.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>fp32</c>, <c>quantized</c>, <c>fp16</c> or <c>all</c> (the three).</summary>
    public static IReadOnlyList<ModelVariant> ParseVariants(string text) =>
        text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)
            ? Enum.GetValues<ModelVariant>()
            : [ModelVariants.Parse(text)];

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Revision) || Revision.Contains("..", StringComparison.Ordinal))
        {
            throw new ClipSearchException($"'{Revision}' is not a revision: use a branch, tag or commit (default: main).");
        }

        if (Variants.Count == 0 || MaxAttempts < 1)
        {
            throw new ClipSearchException("Nothing to download: name a variant (fp32, quantized, fp16 or all).");
        }
    }
}

/// <summary>What <see cref="ModelDownloader.DownloadAsync"/> did.</summary>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">The revision asked for.</param>
/// <param name="Commit">The commit it resolved to, when the Hub said.</param>
/// <param name="Directory">The model folder, ready to load.</param>
/// <param name="Variants">The variants now in the folder from this download.</param>
/// <param name="Files">Every file of the plan.</param>
/// <param name="BytesReceived">Bytes received over the network in this run.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="EmbeddingDim">Embedding length of the loaded model (0 when not loaded).</param>
public sealed record DownloadResult(
    HubRepo Repo, string Revision, string? Commit, string Directory, IReadOnlyList<ModelVariant> Variants,
    IReadOnlyList<DownloadedFile> Files, long BytesReceived, TimeSpan Elapsed, int EmbeddingDim);

/// <summary>One file of a download.</summary>
/// <param name="Path">Path in the repository (and in the folder).</param>
/// <param name="Bytes">Size.</param>
/// <param name="Sha256">Checked sha256 (LFS files), or null.</param>
/// <param name="AlreadyPresent">True when the file was there and right, so nothing was fetched.</param>
public sealed record DownloadedFile(string Path, long Bytes, string? Sha256, bool AlreadyPresent);
