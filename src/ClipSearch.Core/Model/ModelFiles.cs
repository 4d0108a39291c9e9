using System.Text;
using ClipSearch.Core.IO;

namespace ClipSearch.Core.Model;

/// <summary>
/// How the files of a model folder are checked and read: each must be a regular file (or a link to one) of a sane
/// size, and the small ones (JSON, tokenizer text) are read through <see cref="RegularFile"/> — only as regular files,
/// bounded, within its timeout — so that a FIFO, a device or a dead mount in a model folder cannot hang a load.
/// </summary>
internal static class ModelFiles
{
    /// <summary>The largest JSON or text file of a model read (config, preprocessor config, tokenizer files): 64 MB.</summary>
    public const long MaxTextBytes = 64_000_000;

    /// <summary>The largest ONNX graph: protobuf's 2 GB limit (ONNX Runtime cannot parse more; larger models keep their weights in external data).</summary>
    public const long MaxOnnxBytes = int.MaxValue;

    /// <summary>
    /// Refuses, with a <see cref="ModelLoadException"/> naming <paramref name="path"/> and what it is, anything but a
    /// regular file (a link to one included) of at most <paramref name="maxBytes"/>. Only asks the system about the
    /// path (<c>stat</c>): nothing is opened.
    /// </summary>
    public static void RequireRegular(string path, long maxBytes = long.MaxValue, string limitReason = "")
    {
        FileStat stat;
        try
        {
            stat = FileStat.Get(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path} cannot be read: {e.Message}", e);
        }

        if (stat.Kind != FileKind.Regular)
        {
            throw new ModelLoadException($"{Describe(path, stat.Kind)}, not a regular file: a model folder's files must be regular files (or links to them).");
        }

        if (stat.Size > maxBytes)
        {
            throw new ModelLoadException($"{path} is {Size(stat.Size)}, over {limitReason}.");
        }
    }

    /// <summary>The bytes of a small model file (at most <see cref="MaxTextBytes"/>), read as a regular file only, within the read timeout.</summary>
    /// <exception cref="FileNotFoundException">It does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    /// <exception cref="IOException">It is not a regular file, is too large, cannot be read or timed out; the message says which.</exception>
    public static byte[] ReadSmall(string path) => RegularFile.ReadAllBytes(path, MaxTextBytes, RegularFile.DefaultTimeout);

    /// <summary>As <see cref="ReadSmall"/>, decoded as <see cref="File.ReadAllText(string)"/> does (UTF-8 unless a byte order mark says otherwise).</summary>
    /// <inheritdoc cref="ReadSmall" path="/exception"/>
    public static string ReadText(string path)
    {
        using var reader = new StreamReader(new MemoryStream(ReadSmall(path)), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>"x is a named pipe (FIFO)", or for a link "x is a symbolic link to /dev/zero, which is a character device".</summary>
    private static string Describe(string path, FileKind kind)
    {
        string? target = null;
        try
        {
            target = FileStat.Get(path, followLinks: false).Kind == FileKind.SymbolicLink ? new FileInfo(path).LinkTarget : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the link changed meanwhile: say what it points to now
        }

        return target is null
            ? $"{path} is {FileStat.Describe(kind)}"
            : $"{path} is a symbolic link to {target}, which is {FileStat.Describe(kind)}";
    }

    private static string Size(long bytes) => bytes >= 1_000_000_000 ? $"{bytes / 1e9:0.#} GB" : $"{bytes / 1e6:0.#} MB";
}
