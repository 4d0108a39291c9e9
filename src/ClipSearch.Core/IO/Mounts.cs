namespace ClipSearch.Core.IO;

/// <summary>
/// Which mount a path is under, by its text: the longest mount point in <c>/proc/self/mountinfo</c> that is a prefix
/// of the absolute path. Nothing of the file system is asked (the kernel's mount table is read), so a mount that
/// stopped answering cannot hang it — which a <c>stat</c> of the path would. Symbolic links are not followed: a link
/// to another mount counts under the mount that holds the link. Good enough to tell one dead mount's reads from the
/// rest, which is all it is for (<see cref="RegularFile.MaxStuckReads"/>).
/// </summary>
internal static class Mounts
{
    private const string MountInfo = "/proc/self/mountinfo";
    private static readonly TimeSpan _maxAge = TimeSpan.FromSeconds(5);
    private static Table? _table;

    /// <summary>The mount point <paramref name="path"/> is under ("/" when the table cannot be read).</summary>
    public static string MountPointOf(string path)
    {
        var full = Path.GetFullPath(path);   // lexical: no system call
        foreach (var point in Current())
        {
            if (point == "/" || full == point || (full.StartsWith(point, StringComparison.Ordinal) && full[point.Length] == '/'))
            {
                return point;
            }
        }

        return "/";
    }

    /// <summary>The mount points, longest first; read again when older than a few seconds (mounts come and go).</summary>
    private static string[] Current()
    {
        var table = Volatile.Read(ref _table);
        if (table is null || Environment.TickCount64 - table.Taken > _maxAge.TotalMilliseconds)
        {
            table = new Table(Environment.TickCount64, Read());
            Volatile.Write(ref _table, table);
        }

        return table.Points;
    }

    private static string[] Read()
    {
        try
        {
            // Each line: id parent major:minor root mount-point options …; spaces and the like in names are \ooo.
            return [.. File.ReadLines(MountInfo)
                .Select(line => line.Split(' '))
                .Where(fields => fields.Length > 4)
                .Select(fields => Unescape(fields[4]))
                .Distinct(StringComparer.Ordinal)
                .OrderByDescending(point => point.Length)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ["/"];   // no /proc: every path counts under one mount, as if there were one
        }
    }

    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new System.Text.StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                text.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';

    private sealed record Table(long Taken, string[] Points);
}
