using System.Diagnostics;
using ClipSearch.Core.Model;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Storage.Sqlite;

namespace ClipSearch.Library.Bench;

/// <summary>
/// What <see cref="ImageLibrary.FindDuplicatesAsync"/> (the CLI's <c>duplicates</c>, the web's Duplicates view and
/// <c>GET /api/library/duplicates</c>) costs on a SQLite library of <c>rows</c> random 512-d embeddings, one path each
/// (every tenth content also copied once, so that copies are looked up too): the first run (vectors loaded) and a
/// second (in memory).
/// </summary>
internal static class DuplicatesBench
{
    public static async Task RunAsync(int rows, int dim)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bench-duplicates-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            var db = Path.Combine(dir, "library.db");
            await using (var store = SqliteLibraryStore.Open(db))
            {
                await store.SetModelAsync(new ModelIdentity(new string('0', 64), "fp32", dim));
                var data = Stats.RandomUnitVectors(rows, dim, seed: 5);
                for (var start = 0; start < rows; start += 1000)
                {
                    var batch = Enumerable.Range(start, Math.Min(1000, rows - start)).SelectMany(i => Enumerable.Range(0, i % 10 == 0 ? 2 : 1).Select(copy => new IndexedFile(
                        new ScannedFile($"/home/user/Pictures/IMG_{i:D6}{(copy == 0 ? "" : "-copy")}.jpg", 3_000_000 + i, 638_500_000_000_000_000 + i),
                        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
                        data.AsSpan(i * dim, dim).ToArray(), null))).ToList();
                    await store.CommitAsync(batch);
                }
            }

            await using var library = await ImageLibrary.OpenAsync(db);
            foreach (var run in new[] { "first (loads the vectors)", "again (in memory)" })
            {
                var clock = Stopwatch.StartNew();
                var groups = await library.FindDuplicatesAsync();
                Console.WriteLine($"duplicates, {rows:N0} contents ({rows + (rows + 9) / 10:N0} images), {run}: {clock.Elapsed.TotalSeconds:F2} s, {groups.Count:N0} groups, {(await library.DescribeSearchAsync()).Kind}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
