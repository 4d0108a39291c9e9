namespace ClipSearch.Hub;

/// <summary>What a download is doing now.</summary>
public enum DownloadStage
{
    /// <summary>Asking the Hub which files there are and how large they are.</summary>
    Resolving,

    /// <summary>Receiving <see cref="DownloadProgress.File"/>.</summary>
    Downloading,

    /// <summary>Checking the size and sha256 of <see cref="DownloadProgress.File"/>.</summary>
    Verifying,

    /// <summary>Loading the finished folder with ClipModel.</summary>
    Loading,

    /// <summary>Everything is in place.</summary>
    Done,
}

/// <summary>
/// One progress report of <see cref="ModelDownloader"/>, for a progress bar (CLI) or a web page. Bytes already on
/// disk from an earlier, interrupted run count as done; <see cref="BytesPerSecond"/> counts only this run's bytes.
/// </summary>
/// <param name="Stage">What is happening.</param>
/// <param name="File">Repository path of the current file (for example <c>onnx/text_model.onnx</c>), or null.</param>
/// <param name="FileIndex">0-based index of the current file in the plan.</param>
/// <param name="FileCount">Files in the plan.</param>
/// <param name="FileBytesDone">Bytes of the current file on disk.</param>
/// <param name="FileBytesTotal">Size of the current file.</param>
/// <param name="BytesDone">Bytes of all files on disk.</param>
/// <param name="BytesTotal">Size of all files.</param>
/// <param name="BytesPerSecond">Average receive rate of this run.</param>
public sealed record DownloadProgress(
    DownloadStage Stage,
    string? File,
    int FileIndex,
    int FileCount,
    long FileBytesDone,
    long FileBytesTotal,
    long BytesDone,
    long BytesTotal,
    double BytesPerSecond)
{
    /// <summary>Fraction of all bytes done, 0 to 1.</summary>
    public double Fraction => BytesTotal > 0 ? Math.Clamp((double)BytesDone / BytesTotal, 0, 1) : 0;
}
