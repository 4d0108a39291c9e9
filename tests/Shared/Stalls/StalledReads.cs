using ClipSearch.Core.IO;

namespace ClipSearch.Tests;

/// <summary>
/// While it lives, every read of a file under <see cref="Folder"/> stalls after the open, as a read from a network
/// mount that stopped answering does (through <see cref="RegularFile"/>'s test hook); disposing releases them.
/// Linked only into the test projects that Core lets see its internals.
/// </summary>
internal sealed class StalledReads : IDisposable
{
    private static readonly Lock _hooks = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly Action<string> _hook;
    private int _stalled;

    public StalledReads(string folder)
    {
        Folder = Path.TrimEndingDirectorySeparator(folder);
        _hook = path =>
        {
            if (path.StartsWith(Folder + "/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _stalled);
                _release.Wait(TimeSpan.FromMinutes(2));
            }
        };
        lock (_hooks)
        {
            RegularFile.BeforeReadForTests += _hook;
        }
    }

    public string Folder { get; }

    /// <summary>Reads that have stalled so far.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    public void Dispose()
    {
        lock (_hooks)
        {
            RegularFile.BeforeReadForTests -= _hook;
        }

        _release.Set();
    }
}
