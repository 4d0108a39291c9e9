using ClipSearch.Core.IO;

namespace ClipSearch.Library.Indexing;

/// <summary>
/// SHA-256 of a file's bytes: how a moved, renamed or copied file is recognised without inference. SHA-256 rather
/// than a faster non-cryptographic hash (xxHash) because it is built into .NET (no dependency), runs with the
/// CPU's SHA instructions far faster than images decode (so it is never the bottleneck), and because
/// a collision would silently give one photo another's embedding, which a 256-bit cryptographic hash rules out.
/// Only regular files are read, at most the size they had when opened, within a timeout (see <see cref="RegularFile"/>).
/// </summary>
public static class ContentHasher
{
    /// <summary>Lower-case hex SHA-256 of the regular file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">It is not a regular file, or reading it failed or timed out (<see cref="FileReadTimeoutException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static string Hash(string path, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Convert.ToHexStringLower(RegularFile.Sha256(path, timeout, cancellationToken));

    /// <summary>As <see cref="Hash(string, TimeSpan, CancellationToken)"/> with <see cref="RegularFile.DefaultTimeout"/>.</summary>
    public static string Hash(string path) => Hash(path, RegularFile.DefaultTimeout);
}
