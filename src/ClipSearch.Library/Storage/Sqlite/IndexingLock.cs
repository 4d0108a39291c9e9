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

    /// <summary>Holds the lock shared (other runs may hold it too) until disposed.</summary>
    public static IAsyncDisposable Shared(string databasePath) =>
        new FileStream(databasePath + Suffix, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>The lock held exclusively, or null while any run holds it.</summary>
    public static IDisposable? TryExclusive(string databasePath)
    {
        try
        {
            return new FileStream(databasePath + Suffix, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;   // held: a run is going
        }
    }
}
