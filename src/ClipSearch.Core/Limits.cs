namespace ClipSearch.Core;

/// <summary>
/// The bounds on the sizes a user picks — threads, batch size, the image size limit — checked in one place, so that
/// the command line, the web and the library API accept the same values and refuse the rest with the same message.
/// Without them a request for 100,000 threads started tens of thousands of ONNX Runtime threads.
/// </summary>
public static class Limits
{
    /// <summary>Most threads one setting may ask for (ONNX Runtime threads per session, image decoding threads).</summary>
    public const int MaxThreads = 256;

    /// <summary>Most images or texts per inference call (a batch of 256 images is a 154 MB input tensor).</summary>
    public const int MaxBatchSize = 256;

    /// <summary>The largest image size limit, in megapixels (the default limit is 100).</summary>
    public const long MaxMegapixels = 10_000;

    /// <summary>Returns <paramref name="value"/> when it is 1 to <see cref="MaxThreads"/>.</summary>
    /// <param name="value">The number asked for.</param>
    /// <param name="what">What is counted, for the message ("threads", "decoding threads").</param>
    /// <exception cref="ClipSearchException">It is out of range.</exception>
    public static int CheckThreads(int value, string what = "threads") => value is >= 1 and <= MaxThreads
        ? value
        : throw new ClipSearchException($"The number of {what} must be between 1 and {MaxThreads} (got {value}).");

    /// <summary>Returns <paramref name="value"/> when it is 1 to <see cref="MaxBatchSize"/>.</summary>
    /// <exception cref="ClipSearchException">It is out of range.</exception>
    public static int CheckBatchSize(int value) => value is >= 1 and <= MaxBatchSize
        ? value
        : throw new ClipSearchException($"The batch size must be between 1 and {MaxBatchSize} (got {value}).");

    /// <summary>Returns <paramref name="megapixels"/> when it is 1 to <see cref="MaxMegapixels"/>.</summary>
    /// <exception cref="ClipSearchException">It is out of range (0 or less would refuse every image).</exception>
    public static long CheckMegapixels(long megapixels) => megapixels is >= 1 and <= MaxMegapixels
        ? megapixels
        : throw new ClipSearchException($"The image size limit must be between 1 and {MaxMegapixels} megapixels (got {megapixels}).");
}
