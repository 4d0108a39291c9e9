using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using ClipSearch.Core;
using ClipSearch.Library.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using static ClipSearch.Library.Tests.TestLibraries;

namespace ClipSearch.Library.Tests;

/// <summary>
/// The library file as the system lets it be: on a read-only mount or not writable by this user (searched, not
/// indexed), another application's SQLite database (refused and left byte for byte as it was), a folder this user
/// may not list. Tests run as root, who may write anything: they reach those states through a private mount
/// namespace with a read-only bind mount, or by running <c>clipsearch</c> as another user.
/// </summary>
public sealed class LibraryFileTests
{
    private const string ReadOnlyMount = "read-only mount";
    private const string OtherUser = "file and folder not writable by this user";
    private const string Nobody = "65534";

    [SkippableTheory]
    [InlineData(ReadOnlyMount)]
    [InlineData(OtherUser)]
    public async Task ReadOnlyLibrary_IsSearchedAndListedButIndexingSaysItIsReadOnly(string how)
    {
        using var temp = ImageFolder("horse.png", "coffee.png");
        File.WriteAllText(temp.File("photos", "notes.jpg"), "not an image");
        var dir = temp.File("library");
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "lib.db");
        var model = Fixtures.Path("tiny-clip");
        Assert.Equal(3, (await CliRunner.RunAsync("index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);
        var before = SHA256.HashData(File.ReadAllBytes(db));
        var filesBefore = Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["lib.db", "lib.db.indexing"], filesBefore);   // the database, and the empty file index runs lock
        CliRunner.Result stats, errors, search, index, remove;
        try
        {
            var wrapper = ReadOnlyWrapper(how, dir, db);

            // Before: "lib.db is not a ClipSearch library (SQLite: attempt to write a readonly database)" for every command.
            stats = await RunAsync(wrapper, temp.Path, "library", "stats", "--library", db, "--json");
            errors = await RunAsync(wrapper, temp.Path, "library", "errors", "--library", db, "--json");
            search = await RunAsync(wrapper, temp.Path, "search", "--model", model, "--library", db, "--json", "a horse");
            index = await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db);
            remove = await RunAsync(wrapper, temp.Path, "library", "remove", "--library", db, temp.File("photos"));
        }
        finally
        {
            SpecialFiles.Run("chmod", "755", dir);   // else the folder cannot be deleted by a user who is not root
            SpecialFiles.Run("chmod", "644", db);
        }

        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Equal(3, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("files").GetInt32());
        Assert.True(errors.ExitCode == 0, errors.Stderr);
        Assert.Equal(temp.File("photos", "notes.jpg"), JsonDocument.Parse(errors.Stdout).RootElement[0].GetProperty("path").GetString());
        Assert.True(search.ExitCode == 0, search.Stderr);
        Assert.Equal(2, JsonDocument.Parse(search.Stdout).RootElement.GetArrayLength());
        var readOnly = $"error: The library {db} is read-only (the file or its folder cannot be written: a read-only mount, or permissions): it can be searched, but not indexed or changed. Copy it somewhere writable to index it.";
        Assert.Equal((1, readOnly), (index.ExitCode, index.Stderr.Trim()));
        Assert.Equal((1, readOnly), (remove.ExitCode, remove.Stderr.Trim()));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(db)));
        Assert.Equal(filesBefore, Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT); INSERT INTO photos(path) VALUES ('/a.jpg')", "photos")]
    [InlineData("PRAGMA user_version = 3; CREATE TABLE notes(t TEXT); CREATE TABLE tags(t TEXT)", "notes, tags")]
    [InlineData("PRAGMA journal_mode = DELETE; CREATE TABLE meta(key TEXT, value TEXT)", "meta")]
    public void Sqlite_AnotherApplicationsDatabase_IsRefusedAndLeftByteIdentical(string sql, string tables)
    {
        using var temp = new TempFolder();
        var path = temp.File("other.db");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var command = c.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        var before = SHA256.HashData(File.ReadAllBytes(path));

        // Before: switched to WAL first (and a database without conflicting tables had ClipSearch's tables added).
        var e = Assert.Throws<ClipSearchException>(() => SqliteLibraryStore.Open(path));

        Assert.Equal((ErrorCodes.LibraryNotLibrary, $"{path} is a SQLite database but not a ClipSearch library (its tables: {tables}); it was left unchanged."), (e.Code, e.Message));
        Assert.Equal([path, tables], e.Arguments);
        Assert.Equal($"{path} is a SQLite database but not a ClipSearch library (its tables: {tables}); it was left unchanged. Point --library at a library, or at a new file.", Cli.CliErrors.Describe(e));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal(["other.db"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("copied with its -wal and -shm")]
    [InlineData("copied with its -wal only")]
    public void Sqlite_AnotherApplicationsDatabaseInWalMode_IsRefusedAndEveryFileLeftByteIdentical(string state)
    {
        using var temp = new TempFolder();
        var path = temp.File("app", "other.db");
        Directory.CreateDirectory(temp.File("app"));
        using var writer = new SqliteConnection($"Data Source={path};Pooling=False");
        writer.Open();
        using (var command = writer.CreateCommand())
        {
            // Nothing checkpointed: the table and its row are only in other.db-wal (other.db holds the header page).
            command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT); INSERT INTO photos(path) VALUES ('/a.jpg')";
            command.ExecuteNonQuery();
        }

        // Copied while the writer is open, as another application leaves them when it is killed. (Not read beside the
        // open writer: in one process SQLite shares the writer's -shm with every connection, the check's included.)
        Directory.CreateDirectory(temp.File("copy"));
        foreach (var suffix in state.EndsWith("-shm", StringComparison.Ordinal) ? new[] { "", "-wal", "-shm" } : ["", "-wal"])
        {
            File.Copy(path + suffix, temp.File("copy", "other.db" + suffix));
        }

        writer.Close();
        path = temp.File("copy", "other.db");

        var folder = Path.GetDirectoryName(path)!;
        var before = Snapshot(folder);

        // Before: opened read-write to be checked, so SQLite recovered the -wal and, closing, checkpointed it into
        // other.db (4096 → 8192 bytes) and deleted the -wal and -shm; and the message said it was left unchanged.
        var e = Assert.Throws<ClipSearchException>(() => SqliteLibraryStore.Open(path));

        Assert.Equal(state == "copied with its -wal only"
            ? (ErrorCodes.LibraryUnfinishedChanges, $"{path} is a SQLite database whose last changes are still in other.db-wal, and they cannot be read without writing a other.db-shm beside it; it was left unchanged.")
            : (ErrorCodes.LibraryNotLibrary, $"{path} is a SQLite database but not a ClipSearch library (its tables: photos); it was left unchanged."), (e.Code, e.Message));
        Assert.Equal(path, e.Arguments[0]);
        Assert.Equal(state == "copied with its -wal only"
            ? $"{path} is a SQLite database whose last changes are still in other.db-wal, and they cannot be read without writing a other.db-shm beside it; it was left unchanged. " +
              "If it is a ClipSearch library, open it once with the program that wrote it (or sqlite3) to finish those changes; otherwise point --library at a library, or at a new file."
            : $"{path} is a SQLite database but not a ClipSearch library (its tables: photos); it was left unchanged. Point --library at a library, or at a new file.", Cli.CliErrors.Describe(e));
        Assert.Equal(before, Snapshot(folder));   // every file, byte for byte, and no new one
    }

    [SkippableTheory]
    [InlineData(ReadOnlyMount)]
    [InlineData(OtherUser)]
    public async Task ReadOnlyLibrary_WhoseWalHoldsChangesButHasNoShm_IsRefusedRatherThanShownAsItWas(string how)
    {
        using var temp = ImageFolder("horse.png", "coffee.png");
        var db = temp.File("lib.db");
        Assert.Equal(0, (await CliRunner.RunAsync("index", "--model", Fixtures.Path("tiny-clip"), "--library", db, temp.File("photos"))).ExitCode);
        var ro = temp.File("ro");
        var withoutShm = temp.File("ro", "a", "lib.db");
        var withShm = temp.File("ro", "b", "lib.db");
        Directory.CreateDirectory(Path.GetDirectoryName(withoutShm)!);
        Directory.CreateDirectory(Path.GetDirectoryName(withShm)!);
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var command = c.CreateCommand();
            command.CommandText = $"PRAGMA wal_autocheckpoint=0; DELETE FROM files WHERE path = '{temp.File("photos", "horse.png")}'";
            command.ExecuteNonQuery();   // committed, in lib.db-wal only
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Copy(db + suffix, withShm + suffix);
                if (suffix != "-shm")
                {
                    File.Copy(db + suffix, withoutShm + suffix);   // the -shm lost (deleted by hand, not copied)
                }
            }
        }

        var before = Snapshot(Path.GetDirectoryName(withoutShm)!);
        CliRunner.Result refused, read;
        try
        {
            var wrapper = ReadOnlyWrapper(how, ro, withoutShm);

            // Before: opened immutable=1, which reads lib.db alone: 2 files, the committed DELETE silently ignored.
            refused = await RunAsync(wrapper, temp.Path, "library", "stats", "--library", withoutShm, "--json");
            read = await RunAsync(wrapper, temp.Path, "library", "stats", "--library", withShm, "--json");
        }
        finally
        {
            SpecialFiles.Run("chmod", "755", ro);
            SpecialFiles.Run("chmod", "644", withoutShm);
        }

        Assert.Equal((1, $"error: The library {withoutShm} was not closed cleanly (its last changes are in lib.db-wal, and without a lib.db-shm, which cannot be created here, they cannot be read): open it once where it can be written, to finish them."),
            (refused.ExitCode, refused.Stderr.Trim()));
        Assert.Equal(before, Snapshot(Path.GetDirectoryName(withoutShm)!));
        Assert.True(read.ExitCode == 0, read.Stderr);
        Assert.Equal(1, JsonDocument.Parse(read.Stdout).RootElement.GetProperty("files").GetInt32());   // with its -shm, the -wal is read
    }

    [Fact]
    public async Task Sqlite_LibraryPathIsAFifo_IsRefusedWithWhatItIs()
    {
        using var temp = new TempFolder();
        var path = temp.File("fifo.db");
        SpecialFiles.MakeFifo(path);

        // Before: "fifo.db is not a ClipSearch library (SQLite: SQLite Error 10: 'disk I/O error'.)".
        var e = await Assert.ThrowsAsync<ClipSearchException>(() => Task.Run(() => SqliteLibraryStore.Open(path)).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal($"{path} is a named pipe (FIFO), not a regular file: a library is a SQLite file (or the path of a new one).", e.Message);
    }

    [SkippableFact]
    public async Task Index_SubfolderThisUserMayNotList_KeepsItsPhotosAndSaysSo()
    {
        using var temp = ImageFolder("horse.png");
        var sub = temp.File("photos", "sub");
        Directory.CreateDirectory(sub);
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(sub, "coffee.png"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), Path.Combine(sub, "chelsea.png"));
        var libraryDir = temp.File("library");
        Directory.CreateDirectory(libraryDir);
        var db = Path.Combine(libraryDir, "lib.db");
        var model = Fixtures.Path("tiny-clip");
        string[] wrapper = SpecialFiles.IsRoot ? AsNobody() : [];
        if (SpecialFiles.IsRoot)
        {
            SpecialFiles.Run("chmod", "777", libraryDir);
        }

        Assert.Equal(0, (await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);
        CliRunner.Result index, stats, errors;
        SpecialFiles.Run("chmod", "000", sub);
        try
        {
            // Before: "3 images found, … 2 removed": sub listed as empty, its photos dropped (and embedded again later).
            index = await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db, temp.File("photos"));
            stats = await RunAsync(wrapper, temp.Path, "library", "stats", "--library", db, "--json");
            errors = await RunAsync(wrapper, temp.Path, "library", "errors", "--library", db);
        }
        finally
        {
            SpecialFiles.Run("chmod", "755", sub);
        }

        var again = await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db, "--json", temp.File("photos"));

        Assert.Equal(3, index.ExitCode);   // a folder not read, as a file not read
        Assert.Contains(": 1 images found, 1 unchanged, 0 embedded, 0 recognised (moved or copied), 0 removed, 0 failed, 1 folder not read in ", index.Stderr, StringComparison.Ordinal);
        var counts = JsonDocument.Parse(stats.Stdout).RootElement;
        Assert.Equal((3, 3, 0, 1), (counts.GetProperty("files").GetInt32(), counts.GetProperty("indexed").GetInt32(), counts.GetProperty("failed").GetInt32(), counts.GetProperty("folder_errors").GetInt32()));
        Assert.StartsWith($"{sub} is a folder that could not be listed: ", Assert.Single(errors.Stdout.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.Equal("0 files could not be indexed, 1 folders could not be read", errors.Stderr.Trim());
        Assert.True(again.ExitCode == 0, again.Stderr);
        var healed = JsonDocument.Parse(again.Stdout).RootElement;
        Assert.Equal((3, 0, 0, 0), (healed.GetProperty("scanned").GetInt32(), healed.GetProperty("embedded").GetInt32(), healed.GetProperty("removed").GetInt32(), healed.GetProperty("folder_errors").GetInt32()));
    }

    /// <summary>Each file in <paramref name="folder"/> with the SHA-256 of its bytes.</summary>
    private static SortedDictionary<string, string> Snapshot(string folder) =>
        new(Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    [Fact]
    public async Task Sqlite_NotADatabaseAtAll_IsRefusedAndLeftByteIdentical()
    {
        using var temp = new TempFolder();
        var path = temp.File("photo.jpg");
        File.Copy(Fixtures.Path("images", "horse.png"), path);
        var before = SHA256.HashData(File.ReadAllBytes(path));

        var result = await CliRunner.RunAsync("library", "stats", "--library", path);

        Assert.Equal((1, $"error: {path} is not a ClipSearch library (SQLite: SQLite Error 26: 'file is not a database'.)."), (result.ExitCode, result.Stderr.Trim()));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
    }

    [SkippableFact]
    public async Task Index_FolderThisUserMayNotList_IsOneErrorLineAndNothingIsRemoved()
    {
        using var temp = ImageFolder("horse.png");
        var libraryDir = temp.File("library");
        Directory.CreateDirectory(libraryDir);
        var db = Path.Combine(libraryDir, "lib.db");
        var model = Fixtures.Path("tiny-clip");
        string[] wrapper = SpecialFiles.IsRoot ? AsNobody() : [];
        if (SpecialFiles.IsRoot)
        {
            SpecialFiles.Run("chmod", "777", libraryDir);
        }

        Assert.Equal(0, (await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);
        SpecialFiles.Run("chmod", "000", temp.File("photos"));
        try
        {
            // Before: the folder listed as empty (inaccessible entries were ignored), and all its files were dropped.
            var index = await RunAsync(wrapper, temp.Path, "index", "--model", model, "--library", db, temp.File("photos"));
            var stats = await RunAsync(wrapper, temp.Path, "library", "stats", "--library", db, "--json");

            Assert.Equal(1, index.ExitCode);
            Assert.StartsWith($"error: {temp.File("photos")} cannot be read: ", index.Stderr.Trim(), StringComparison.Ordinal);
            Assert.DoesNotContain('\n', index.Stderr.Trim());
            Assert.Equal(1, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("indexed").GetInt32());
        }
        finally
        {
            SpecialFiles.Run("chmod", "755", temp.File("photos"));
        }
    }

    /// <summary>What to run <c>clipsearch</c> under so that it cannot write <paramref name="dir"/>; skips when this machine cannot.</summary>
    private static string[] ReadOnlyWrapper(string how, string dir, string db)
    {
        if (how == ReadOnlyMount)
        {
            Skip.IfNot(SpecialFiles.IsRoot && CanMountReadOnly(), "needs root with CAP_SYS_ADMIN (unshare -m and a bind mount)");
            // A private mount namespace: the folder is bound onto itself read-only, for this process only.
            return ["unshare", "-m", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\" && exec \"$@\"", dir];
        }

        SpecialFiles.Run("chmod", "444", db);
        SpecialFiles.Run("chmod", "555", dir);
        return SpecialFiles.IsRoot ? AsNobody() : [];
    }

    private static string[] AsNobody()
    {
        Skip.If(!File.Exists("/usr/bin/setpriv") && !File.Exists("/bin/setpriv"), "setpriv (util-linux) is needed to run as another user");
        return ["setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "--"];
    }

    private static bool CanMountReadOnly()
    {
        using var probe = new TempFolder();
        try
        {
            using var process = Process.Start(new ProcessStartInfo("unshare", ["-m", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\" && ! touch \"$0/x\" 2>/dev/null", probe.Path])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            })!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;   // no unshare
        }
    }

    /// <summary>Runs the built <c>clipsearch</c> under <paramref name="wrapper"/> (none: directly), with a home of its own under <paramref name="home"/>.</summary>
    private static Task<CliRunner.Result> RunAsync(string[] wrapper, string home, params string[] args)
    {
        // Another user can neither read root's home nor write the test's folder (ONNX Runtime keeps a file in HOME).
        var userHome = Path.Combine(home, "home");
        if (!Directory.Exists(userHome))
        {
            Directory.CreateDirectory(userHome);
            SpecialFiles.Run("chmod", "777", userHome);
        }

        return CliRunner.RunWrappedAsync(wrapper, null, new Dictionary<string, string> { ["HOME"] = userHome, ["DOTNET_CLI_HOME"] = userHome }, args);
    }
}
