using ClipSearch.Core.Model;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Sqlite;

namespace ClipSearch.Library.Bench;

/// <summary>Bytes per image on disk in a SQLite library (typical path lengths, 512-d float32 embedding).</summary>
internal static class DiskBench
{
    public static async Task RunAsync(int rows, int dim)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bench-disk-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            await using var store = SqliteLibraryStore.Open(Path.Combine(dir, "library.db"));
            await store.SetModelAsync(new ModelIdentity(new string('0', 64), "fp32", dim));
            var data = Stats.RandomUnitVectors(rows, dim, seed: 3);
            for (var start = 0; start < rows; start += 1000)
            {
                var batch = Enumerable.Range(start, Math.Min(1000, rows - start)).Select(i => new IndexedFile(
                    new ScannedFile($"/home/user/Pictures/2024/2024-07-14 holiday/IMG_{i:D6}.jpg", 3_000_000 + i, 638_500_000_000_000_000 + i),
                    Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
                    data.AsSpan(i * dim, dim).ToArray(), null)).ToList();
                await store.CommitAsync(batch);
            }

            var stats = await store.GetStatsAsync();
            Console.WriteLine($"sqlite: {rows} images, {stats.StorageBytes / (double)rows:F0} bytes/image on disk (embedding alone {dim * 4} bytes)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
