namespace ClipSearch.Library.Storage.Sqlite;

/// <summary>
/// The lock that tells every process using a SQLite library that it is being indexed: a file beside the database
/// (<c>library.db.indexing</c>) that runs open shared and a folder's removal opens exclusively. .NET takes an
/// advisory <c>flock</c> for <see cref="FileShare"/> on Linux, which the kernel drops when a process dies, so a
/// killed run never leaves the library locked; the file itself stays, empty and harmless.
/// </summary>
internal static class IndexingLock
{
    private const string Suffix = ".indexing";

    /// <summary>How often a run that finds a removal holding the lock tries again (a removal is one transaction).</summary>
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>Holds the lock shared (other runs may hold it too) until disposed, waiting while a removal holds it.</summary>
    public static async Task<IAsyncDisposable> SharedAsync(string databasePath, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(databasePath + Suffix, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (IOException) when (File.Exists(databasePath + Suffix))
            {
                await Task.Delay(RetryEvery, cancellationToken).ConfigureAwait(false);   // a removal holds it exclusively
            }
            catch (UnauthorizedAccessException e)
            {
                throw Unusable(databasePath, e);
            }
        }
    }

    /// <summary>The lock held exclusively, or null while any run holds it.</summary>
    public static IDisposable? TryExclusive(string databasePath)
    {
        try
        {
            return new FileStream(databasePath + Suffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(databasePath + Suffix))
        {
            return null;   // held: a run is going
        }
        catch (UnauthorizedAccessException e)
        {
            throw Unusable(databasePath, e);
        }
    }

    private static Core.ClipSearchException Unusable(string databasePath, Exception e) =>
        new($"The library's lock file {databasePath + Suffix} cannot be opened: {e.Message}", e);
}
