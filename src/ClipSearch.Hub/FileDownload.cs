using System.Net;
using System.Security.Cryptography;
using ClipSearch.Core;

namespace ClipSearch.Hub;

/// <summary>
/// Downloads one file into <c>{target}.incomplete</c>, resuming what an earlier attempt left there (HTTP Range),
/// checks its size and sha256, and renames it into place only when it is right. Broken transfers are retried a
/// bounded number of times; a file with the wrong sha256 is deleted.
/// </summary>
internal sealed class FileDownload(HubClient client, HubRepo repo, string revision, HubFile file, string target, DownloadRequest request)
{
    /// <summary>Suffix of a partial file; it is kept when a download breaks off and resumed by the next run.</summary>
    public const string IncompleteSuffix = ".incomplete";

    private const int BufferSize = 1 << 16;

    public string PartialPath => target + IncompleteSuffix;

    /// <summary>
    /// Brings the target file into place; <paramref name="onLength"/> gets the bytes on disk as they grow (and whether they came over the network).
    /// Returns false when the file was already there and right.
    /// </summary>
    public async Task<bool> RunAsync(Action<long, bool> onLength, Action onVerifying, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (await IsInPlaceAsync(cancellationToken).ConfigureAwait(false))
        {
            File.Delete(PartialPath);
            onLength(new FileInfo(target).Length, false);
            return false;
        }

        var restartedFromZero = false;
        for (var attempt = 1; ; attempt++)
        {
            var resumedFrom = File.Exists(PartialPath) ? new FileInfo(PartialPath).Length : 0;
            try
            {
                await ReceiveAsync(onLength, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && attempt < request.MaxAttempts)
            {
                await Task.Delay(request.RetryDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (Exception e) when (IsTransient(e) && e is not HubException)
            {
                var kept = File.Exists(PartialPath) ? new FileInfo(PartialPath).Length : 0;
                throw new HubException(HubFailure.Server,
                    $"The download of {file.Path} broke off {attempt} times ({e.Message}); {kept:N0} bytes are kept in {PartialPath}: run the download again to resume.", e);
            }

            onVerifying();
            var problem = await VerifyAsync(cancellationToken).ConfigureAwait(false);
            if (problem is null)
            {
                File.Move(PartialPath, target, overwrite: true);
                return true;
            }

            File.Delete(PartialPath);
            onLength(0, false);
            if (resumedFrom > 0 && !restartedFromZero)
            {
                // The kept part may have come from another version of the file: start once more from zero.
                restartedFromZero = true;
                continue;
            }

            throw new HubException(HubFailure.Verification,
                $"{file.Path} arrived damaged: {problem}. The file was deleted. Run the download again; if this persists, the server at {client.Settings.Endpoint} serves a different file than it announces.");
        }
    }

    private async Task<bool> IsInPlaceAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(target) || file.Size is not { } size || new FileInfo(target).Length != size)
        {
            return false;
        }

        return file.Sha256 is null || await Sha256Async(target, cancellationToken).ConfigureAwait(false) == file.Sha256;
    }

    private async Task ReceiveAsync(Action<long, bool> onLength, CancellationToken cancellationToken)
    {
        var offset = File.Exists(PartialPath) ? new FileInfo(PartialPath).Length : 0;
        if (file.Size is { } size && offset > size)
        {
            offset = 0;
        }

        if (file.Size is { } expected && offset == expected)
        {
            return;
        }

        using var response = await client.GetFileBodyAsync(repo, revision, file.Path, offset, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(PartialPath);
            throw new IOException($"the server could not resume {file.Path} at byte {offset:N0}");
        }

        var resumes = response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == offset;
        if (!resumes)
        {
            offset = 0;
        }

        onLength(offset, false);
        var output = OpenPartial(resumes);
        await using (output.ConfigureAwait(false))
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var buffer = new byte[BufferSize];
                using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                while (true)
                {
                    stall.CancelAfter(client.Settings.StallTimeout);
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new IOException($"nothing arrived for {client.Settings.StallTimeout.TotalSeconds:F0} s");
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    await WriteAsync(output, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    offset += read;
                    onLength(offset, true);
                }
            }
        }

        if (file.Size is { } total && offset < total)
        {
            throw new IOException($"the connection closed at byte {offset:N0} of {total:N0}");
        }
    }

    private FileStream OpenPartial(bool append)
    {
        try
        {
            return new FileStream(PartialPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, BufferSize, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClipSearchException($"Cannot write {PartialPath}: {e.Message}", e);
        }
    }

    private async Task WriteAsync(FileStream output, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await output.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new ClipSearchException($"Cannot write {PartialPath}: {e.Message} (is the disk full?)", e);
        }
    }

    private async Task<string?> VerifyAsync(CancellationToken cancellationToken)
    {
        var length = new FileInfo(PartialPath).Length;
        if (file.Size is { } size && length != size)
        {
            return $"{length:N0} bytes instead of {size:N0}";
        }

        if (file.Sha256 is { } expected)
        {
            var actual = await Sha256Async(PartialPath, cancellationToken).ConfigureAwait(false);
            if (actual != expected)
            {
                return $"sha256 {actual} instead of {expected}";
            }
        }

        return null;
    }

    internal static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        HubException hub => hub.Failure is HubFailure.Server or HubFailure.Unreachable,
        ClipSearchException => false,
        IOException or HttpRequestException => true,
        _ => false,
    };
}
