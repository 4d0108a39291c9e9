using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ClipSearch.Library.Storage.Sqlite;
using static ClipSearch.Library.Tests.TestLibraries;
using static ClipSearch.Tests.TestImages;

namespace ClipSearch.Library.Tests;

/// <summary>The library commands as a user runs them: <c>clipsearch</c> as a child process; and crash-resume.</summary>
public sealed class CliLibraryTests
{
    private const int CrashImages = 240;

    /// <summary>Enough work that the run is still going when the first batch is committed and Ctrl-C arrives.</summary>
    private const int CtrlCImages = 1000;
    private const int Kills = 3;

    [Fact]
    public async Task IndexSearchStatsErrors_FromTheCommandLine_Work()
    {
        using var temp = ImageFolder("horse.png", "coffee.png", "chelsea.png");
        File.WriteAllText(temp.File("photos", "notes.jpg"), "text");
        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");

        var index = await CliRunner.RunAsync("index", "--model", model, "--library", db, "--json", temp.File("photos"));
        var search = await CliRunner.RunAsync("search", "--model", model, "--library", db, "--json", "-k", "2", "\"a cat\" + 2:animal - dog");
        var byImage = await CliRunner.RunAsync("search", "--model", model, "--library", db, "--json", "-k", "1", "--image", temp.File("photos", "coffee.png"));
        var errors = await CliRunner.RunAsync("library", "errors", "--library", db, "--json");
        var stats = await CliRunner.RunAsync("library", "stats", "--library", db, "--json");
        var table = await CliRunner.RunAsync("library", "stats", "--library", db);

        Assert.Equal(3, index.ExitCode);   // one file could not be read
        Assert.Equal(3, JsonDocument.Parse(index.Stdout).RootElement.GetProperty("embedded").GetInt32());
        Assert.Contains("images/s", index.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, search.ExitCode);
        Assert.Equal(2, JsonDocument.Parse(search.Stdout).RootElement.GetArrayLength());
        var top = JsonDocument.Parse(byImage.Stdout).RootElement[0];
        Assert.Equal(temp.File("photos", "coffee.png"), top.GetProperty("path").GetString());
        Assert.Equal(1, top.GetProperty("score").GetSingle(), 1e-4f);
        Assert.Equal(temp.File("photos", "notes.jpg"), JsonDocument.Parse(errors.Stdout).RootElement[0].GetProperty("path").GetString());
        Assert.Equal(4, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("files").GetInt32());
        Assert.Contains(table.Stdout.Split('\n'), line => line.StartsWith("search", StringComparison.Ordinal)
            && line.TrimEnd().EndsWith("exact (an HNSW graph is built from 50,000 images on)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Search_Table_ShowsTheDateTakenAndMarksAFileTime()
    {
        using var temp = ImageFolder("horse.png");
        File.WriteAllBytes(temp.File("photos", "dated.jpg"), ExifJpegs.Bytes(64, 48, exif => exif.SetValue(ImageMagick.ExifTag.DateTimeOriginal, "2019:07:04 12:30:00")));
        File.SetLastWriteTime(temp.File("photos", "horse.png"), new DateTime(2001, 2, 3, 4, 5, 0, DateTimeKind.Local));
        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");
        Assert.Equal(0, (await CliRunner.RunAsync("index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);

        var search = await CliRunner.RunAsync("search", "--model", model, "--library", db, "-k", "2", "a photo");

        Assert.Equal(0, search.ExitCode);
        var lines = search.Stdout.Split('\n');
        // The table wraps long paths onto further lines; each photo's first line holds its date.
        Assert.Contains(lines, line => line.Contains("2019-07-04 12:30", StringComparison.Ordinal) && !line.Contains("file time", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("2001-02-03 04:05 (file time)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Duplicates_FromTheCommandLine_ListTheCopiesAsJsonAndText()
    {
        using var temp = ImageFolder("horse.png", "coffee.png");
        File.Copy(temp.File("photos", "horse.png"), temp.File("photos", "horse-copy.png"));
        var db = temp.File("lib.db");
        Assert.Equal(0, (await CliRunner.RunAsync("index", "--model", Fixtures.Path("tiny-clip"), "--library", db, temp.File("photos"))).ExitCode);

        var json = await CliRunner.RunAsync("duplicates", "--library", db, "--json");
        var text = await CliRunner.RunAsync("duplicates", "--library", db);

        // The default threshold (0.95) keeps horse and coffee apart (0.891 with tiny-clip); the copies are one group.
        var group = Assert.Single(JsonDocument.Parse(json.Stdout).RootElement.EnumerateArray().ToList());
        Assert.Equal(["paths", "min_score"], group.EnumerateObject().Select(p => p.Name));   // the shape docs/cli.md documents
        Assert.Equal([temp.File("photos", "horse-copy.png"), temp.File("photos", "horse.png")], group.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(1, group.GetProperty("min_score").GetSingle());
        Assert.Equal((0, 0), (json.ExitCode, text.ExitCode));
        Assert.Contains($"2 images, cosine ≥ {1f:F3}:\n  {temp.File("photos", "horse-copy.png")}\n  {temp.File("photos", "horse.png")}\n", text.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("1 groups of near-duplicates", text.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbedAndIndex_SameFolder_ListTheSameImageFiles()
    {
        // One enumerator (FolderWalker) for both: a linked folder is followed, a link to a folder above the root is
        // not, a FIFO named as an image is an input that cannot be read, a file that is not named as one is not looked at.
        using var temp = ImageFolder("horse.png", "coffee.png");
        var photos = temp.File("photos");
        Directory.CreateDirectory(temp.File("elsewhere"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), temp.File("elsewhere", "chelsea.png"));
        Directory.CreateSymbolicLink(Path.Combine(photos, "linked"), temp.File("elsewhere"));
        Directory.CreateSymbolicLink(Path.Combine(photos, "up"), temp.Path);
        SpecialFiles.MakeFifo(Path.Combine(photos, "pipe.jpg"));
        File.WriteAllText(Path.Combine(photos, "notes.txt"), "text");
        var model = Fixtures.Path("tiny-clip");
        var db = temp.File("lib.db");

        var embed = await CliRunner.RunAsync("embed", "--model", model, "--json", "-i", photos);
        var index = await CliRunner.RunAsync("index", "--model", model, "--library", db, "--json", photos);

        Assert.Equal((3, 3), (embed.ExitCode, index.ExitCode));   // the FIFO is an input not read, for both
        // One progress reporter: without a terminal, plain lines (no bar redrawn with \r or escape codes) from both.
        Assert.All(new[] { embed.Stderr, index.Stderr }, stderr =>
        {
            Assert.Contains("images/s", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain('\r', stderr);
            Assert.DoesNotContain("\u001b[", stderr, StringComparison.Ordinal);
        });
        var output = JsonDocument.Parse(embed.Stdout).RootElement;
        var embedded = output.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("path").GetString()!).ToList();
        var failed = output.GetProperty("errors").EnumerateArray().Select(i => i.GetProperty("path").GetString()!).ToList();
        string[] images = [Path.Combine(photos, "coffee.png"), Path.Combine(photos, "horse.png"), Path.Combine(photos, "linked", "chelsea.png")];
        Assert.Equal(images, embedded);
        Assert.Equal([Path.Combine(photos, "pipe.jpg")], failed);
        await using var store = SqliteLibraryStore.Open(db);
        var files = await store.GetFilesUnderAsync(photos);
        Assert.Equal([.. images, Path.Combine(photos, "pipe.jpg")], files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal([Path.Combine(photos, "pipe.jpg")], files.Where(f => f.Error is not null).Select(f => f.Path));
    }

    [Fact]
    public async Task Index_FolderOfPhoneScannerAndCameraFormats_IndexesEveryPhotoAndNamesTheBrokenOnes()
    {
        // Issue #11 as a new user met it: a folder of HEIC, AVIF, TIFF and JPEG XL (and one JPEG) said "1 images found".
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        Directory.CreateDirectory(photos);
        foreach (var file in Directory.GetFiles(Fixtures.Path("formats", "images")))
        {
            File.Copy(file, Path.Combine(photos, Path.GetFileName(file)));
        }

        File.Copy(Fixtures.Path("images", "exif_orientation6.jpg"), Path.Combine(photos, "IMG_0001.jpg"));
        var heic = File.ReadAllBytes(Fixtures.Path("formats", "images", "chelsea.heic"));
        File.WriteAllBytes(Path.Combine(photos, "cut.heic"), heic[..(heic.Length / 2)]);
        var tiff = File.ReadAllBytes(Fixtures.Path("formats", "images", "astronaut.tif"));
        File.WriteAllBytes(Path.Combine(photos, "cut.tif"), tiff[..(tiff.Length / 2)]);
        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");

        var index = await CliRunner.RunAsync("index", "--model", model, "--library", db, photos);
        var errors = await CliRunner.RunAsync("library", "errors", "--library", db, "--json");
        var byHeic = await CliRunner.RunAsync("search", "--model", model, "--library", db, "--json", "-k", "1", "--image", Path.Combine(photos, "chelsea.heic"));
        var embedTiff = await CliRunner.RunAsync("embed", "--model", model, "--json", "-i", Path.Combine(photos, "multipage.tif"));

        Assert.Contains($"{db}: 12 images found, 0 unchanged, 10 embedded", index.Stderr, StringComparison.Ordinal);
        var failed = JsonDocument.Parse(errors.Stdout).RootElement.EnumerateArray()
            .Select(e => (Path.GetFileName(e.GetProperty("path").GetString()), e.GetProperty("error").GetString()!.Contains("truncated or corrupt", StringComparison.Ordinal)))
            .Order().ToList();
        Assert.Equal([("cut.heic", true), ("cut.tif", true)], failed);
        Assert.Equal(0, byHeic.ExitCode);
        var best = JsonDocument.Parse(byHeic.Stdout).RootElement[0];
        Assert.Equal(Path.Combine(photos, "chelsea.heic"), best.GetProperty("path").GetString());
        Assert.Equal((0, 1), (embedTiff.ExitCode, JsonDocument.Parse(embedTiff.Stdout).RootElement.GetProperty("images").GetArrayLength()));
    }

    [Fact]
    public async Task Index_FolderWithFilesThatAreNotImages_SaysWhatItSkippedInTextJsonAndStats()
    {
        using var temp = ImageFolder("horse.png", "coffee.png");
        var photos = temp.File("photos");
        Directory.CreateDirectory(Path.Combine(photos, "2024"));
        File.Copy(Fixtures.Path("images", "chelsea.png"), Path.Combine(photos, "2024", "IMG_1.CR2"));
        File.Copy(Fixtures.Path("images", "exif_orientation6.jpg"), Path.Combine(photos, "2024", "IMG_1.JPG"));
        for (var i = 0; i < 9; i++)
        {
            File.WriteAllText(Path.Combine(photos, i < 5 ? "" : "2024", $"clip{i}.MOV"), "");
        }

        foreach (var name in new[] { "a.xmp", "b.xmp", "2024/c.xmp", "notes.txt", "2024/list.txt", "README" })
        {
            File.WriteAllText(Path.Combine(photos, name), "");
        }

        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");

        var text = await CliRunner.RunAsync("index", "--model", model, "--library", db, photos);
        var json = await CliRunner.RunAsync("index", "--model", model, "--library", db, "--json", photos);
        var stats = await CliRunner.RunAsync("library", "stats", "--library", db, "--json");
        var table = await CliRunner.RunAsync("library", "stats", "--library", db);

        Assert.Equal((0, 0, 0, 0), (text.ExitCode, json.ExitCode, stats.ExitCode, table.ExitCode));
        Assert.Equal(
            ["skipped 15 files that are not images: .mov ×9, .xmp ×3, .txt ×2, (no extension) ×1",
             "passed over 1 RAW file that has a JPEG or HEIC beside it"],
            text.Stderr.TrimEnd().Split('\n')[^2..]);
        Assert.StartsWith($"{db}: 3 images found, 0 unchanged, 3 embedded", text.Stderr.TrimEnd().Split('\n')[^3], StringComparison.Ordinal);
        foreach (var skipped in new[]
        {
            JsonDocument.Parse(json.Stdout).RootElement.GetProperty("skipped"),
            JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("skipped"),
        })
        {
            Assert.Equal([(".mov", 9), (".xmp", 3), (".txt", 2), ("", 1)], skipped.GetProperty("not_images").EnumerateArray()
                .Select(e => (e.GetProperty("extension").GetString(), e.GetProperty("count").GetInt32())));
            Assert.Equal((15, 1), (skipped.GetProperty("not_image_files").GetInt32(), skipped.GetProperty("raw_with_sibling").GetInt32()));
        }

        Assert.Equal(3, JsonDocument.Parse(json.Stdout).RootElement.GetProperty("unchanged").GetInt32());
        Assert.Equal("", json.Stderr.Trim());   // --json: the counts are in the JSON, stderr has no summary
        // The table may wrap a long value onto the next line: compare with the whitespace collapsed.
        var flat = string.Join(' ', table.Stdout.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("skipped 15 files that are not images: .mov ×9, .xmp ×3, .txt ×2, (no extension) ×1", flat, StringComparison.Ordinal);
        Assert.Contains("passed over 1 RAW file that has a JPEG or HEIC beside it", flat, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbedAndPreprocess_FolderWithRawJpegPairAndOtherFiles_TakeTheJpegAndSaySoOnStderr()
    {
        using var temp = new TempFolder();
        var photos = temp.File("photos");
        Directory.CreateDirectory(photos);
        File.Copy(Fixtures.Path("images", "horse.png"), Path.Combine(photos, "IMG_1.CR2"));
        File.Copy(Fixtures.Path("images", "exif_orientation6.jpg"), Path.Combine(photos, "IMG_1.JPG"));
        File.Copy(Fixtures.Path("images", "coffee.png"), Path.Combine(photos, "IMG_2.NEF"));
        File.WriteAllText(Path.Combine(photos, "notes.txt"), "text");
        File.WriteAllText(Path.Combine(photos, "clip.MOV"), "");

        var embed = await CliRunner.RunAsync("embed", "--model", Fixtures.Path("tiny-clip"), "--json", "-i", photos);
        var preprocess = await CliRunner.RunAsync("preprocess", photos, "--out", temp.File("crops"));

        string[] said = ["skipped 2 files that are not images: .mov ×1, .txt ×1", "passed over 1 RAW file that has a JPEG or HEIC beside it"];
        // The raw file beside its JPEG is no input at all: neither embedded nor failed (a raw file alone may fail to decode).
        var output = JsonDocument.Parse(embed.Stdout).RootElement;
        var failed = output.TryGetProperty("errors", out var errors) ? errors.EnumerateArray().ToList() : new List<JsonElement>();
        var inputs = output.GetProperty("images").EnumerateArray().Concat(failed)
            .Select(i => i.GetProperty("path").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal([Path.Combine(photos, "IMG_1.JPG"), Path.Combine(photos, "IMG_2.NEF")], inputs);
        Assert.All(said, line => Assert.Contains(line, embed.Stderr.Split('\n'), StringComparer.Ordinal));
        Assert.Equal(said, preprocess.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("warning:", StringComparison.Ordinal)));
        Assert.DoesNotContain("IMG_1.CR2", preprocess.Stdout + preprocess.Stderr, StringComparison.Ordinal);
        Assert.Contains(temp.File("crops", "IMG_1.png"), preprocess.Stdout.Split('\n'), StringComparer.Ordinal);
    }

    [Fact]
    public async Task LibraryErrors_AsText_NamesEachFileOnce()
    {
        using var temp = ImageFolder("horse.png");
        File.WriteAllText(temp.File("photos", "notes.jpg"), "text");
        var db = temp.File("lib.db");
        Assert.Equal(3, (await CliRunner.RunAsync("index", "--model", Fixtures.Path("tiny-clip"), "--library", db, temp.File("photos"))).ExitCode);

        var json = await CliRunner.RunAsync("library", "errors", "--library", db, "--json");
        var text = await CliRunner.RunAsync("library", "errors", "--library", db);

        var error = JsonDocument.Parse(json.Stdout).RootElement[0].GetProperty("error").GetString()!;
        Assert.StartsWith(temp.File("photos", "notes.jpg") + " ", error, StringComparison.Ordinal);
        // Before: "/…/notes.jpg: /…/notes.jpg is …" (the path, then the message, which starts with it).
        Assert.Equal(error, text.Stdout.Trim());
        Assert.Equal("1 files could not be indexed", text.Stderr.Trim());
    }

    [Fact]
    public async Task Search_NoLibraryYet_SaysHowToCreateOne()
    {
        using var temp = new TempFolder();

        var result = await CliRunner.RunAsync("search", "--model", Fixtures.Path("tiny-clip"), "--library", temp.File("none.db"), "cat");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: There is no library at {temp.File("none.db")} yet: create it with 'clipsearch index --model DIR FOLDER' (or point --library at one).", result.Stderr.Trim());
        Assert.False(File.Exists(temp.File("none.db")));
    }

    [Fact]
    public async Task Search_WithAnotherModel_ExitsWithOneLineError()
    {
        using var temp = ImageFolder("horse.png");
        var db = temp.File("lib.db");
        await CliRunner.RunAsync("index", "--model", Fixtures.Path("tiny-clip"), "--library", db, temp.File("photos"));

        var result = await CliRunner.RunAsync("search", "--model", Fixtures.Path("tiny-clip"), "--variant", "quantized", "--library", db, "horse");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: The library", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("another model", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_KilledWithSigkillAtRandomPoints_ResumesWithoutDuplicatesLossOrCorruption()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < CrashImages; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D3}.bmp"), 1000 + i, size: 48);
        }

        var db = temp.File("lib.db");
        string[] args = ["index", "--model", Fixtures.Path("tiny-clip"), "--library", db, "--batch-size", "2", "--threads", "1", "--json", temp.File("photos")];
        var random = new Random(7);
        var killedMidRun = 0;
        var indexed = 0L;
        for (var kill = 0; kill < Kills; kill++)
        {
            using var child = CliRunner.Start(args);
            // Wait for the run to commit something new, then kill it a random moment later.
            var deadline = Stopwatch.StartNew();
            while (!child.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60) && await IndexedAsync(db) <= indexed)
            {
                await Task.Delay(10);
            }

            await Task.Delay(random.Next(0, 150));
            if (!child.HasExited)
            {
                child.Kill();   // SIGKILL
                killedMidRun++;
            }

            await child.WaitForExitAsync();
            indexed = await IndexedAsync(db);
        }

        var resume = await CliRunner.RunAsync(args);

        Assert.True(killedMidRun > 0, "no run was killed while indexing");
        Assert.Equal(0, resume.ExitCode);
        Assert.Equal(CrashImages - indexed, JsonDocument.Parse(resume.Stdout).RootElement.GetProperty("embedded").GetInt32());
        await using var store = SqliteLibraryStore.Open(db);
        Assert.Equal("ok", await store.CheckIntegrityAsync());
        var stats = await store.GetStatsAsync();
        Assert.Equal((CrashImages, CrashImages, 0L, CrashImages), (stats.Files, stats.Indexed, stats.Failed, stats.Contents));
        var files = await store.GetFilesUnderAsync(temp.File("photos"));
        Assert.Equal(Directory.GetFiles(temp.File("photos")).Order(StringComparer.Ordinal), files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal(CrashImages, files.Select(f => f.ContentId).Distinct().Count());
    }

    [Fact]
    public async Task Index_CtrlC_StopsCleanlyAndTheNextRunResumes()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("photos"));
        for (var i = 0; i < CtrlCImages; i++)
        {
            WriteBmp(temp.File("photos", $"img{i:D4}.bmp"), 5000 + i, size: 48);
        }

        var db = temp.File("lib.db");
        string[] args = ["index", "--model", Fixtures.Path("tiny-clip"), "--library", db, "--batch-size", "2", "--threads", "1", "--json", temp.File("photos")];
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var child = CliRunner.Start(args, stderr.Enqueue);
        var deadline = Stopwatch.StartNew();
        // Interrupt as soon as the library exists: the 1,000 files take the child far longer than this.
        while (!child.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60) && !File.Exists(db))
        {
            await Task.Delay(5);
        }

        Assert.False(child.HasExited, "the run finished before it could be interrupted");
        using (var interrupt = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await interrupt.WaitForExitAsync();
        }

        await child.WaitForExitAsync();
        var indexed = await IndexedAsync(db);
        var resume = await CliRunner.RunAsync(args);

        Assert.True(child.ExitCode == 130, $"exit code {child.ExitCode}, {indexed} indexed; stderr:\n{string.Join('\n', stderr)}");
        Assert.InRange(indexed, 0, CtrlCImages - 1);
        Assert.Equal(CtrlCImages - indexed, JsonDocument.Parse(resume.Stdout).RootElement.GetProperty("embedded").GetInt32());
        await using var store = SqliteLibraryStore.Open(db);
        Assert.Equal("ok", await store.CheckIntegrityAsync());
    }

    [Fact]
    public async Task Serve_WithLibrary_CountsAndSearchesTheIndexedFolder()
    {
        using var temp = ImageFolder("horse.png", "coffee.png", "chelsea.png");
        var db = temp.File("lib.db");
        var model = Fixtures.Path("tiny-clip");
        Assert.Equal(0, (await CliRunner.RunAsync("index", "--model", model, "--library", db, temp.File("photos"))).ExitCode);
        const string Serving = "ClipSearch is serving on ";
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var server = CliRunner.Start(["serve", "--model", model, "--library", db, "--urls", "http://127.0.0.1:0"], line =>
        {
            stderr.Enqueue(line);
            if (line.StartsWith(Serving, StringComparison.Ordinal))
            {
                address.TrySetResult(line[Serving.Length..].Split([',', ' '])[0]);
            }
        });
        try
        {
            var url = await address.Task.WaitAsync(TimeSpan.FromSeconds(90));
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
            var library = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/library", UriKind.Relative))).RootElement;
            using var byText = await http.PostAsync(new Uri("/api/search", UriKind.Relative),
                new StringContent("""{"text": "a photo of a horse", "k": 5}""", System.Text.Encoding.UTF8, "application/json"));
            var results = JsonDocument.Parse(await byText.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
            var coffee = results.EnumerateArray().First(r => r.GetProperty("fileName").GetString() == "coffee.png");
            using var moreLikeCoffee = await http.PostAsync(new Uri("/api/search", UriKind.Relative),
                new StringContent($$"""{"imageId": "{{coffee.GetProperty("id").GetString()}}", "k": 5}""", System.Text.Encoding.UTF8, "application/json"));
            var similar = JsonDocument.Parse(await moreLikeCoffee.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
            using var upload = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(temp.File("photos", "coffee.png"))), "image", "upload.png" } };
            using var byImage = await http.PostAsync(new Uri("/api/search", UriKind.Relative), upload);
            var top = JsonDocument.Parse(await byImage.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0];

            Assert.Contains(stderr, line => line == $"Library: {db}");
            Assert.Equal(3, library.GetProperty("stats").GetProperty("indexed").GetInt64());
            Assert.Equal("exact (an HNSW graph is built from 50,000 images on)", library.GetProperty("search").GetString());
            Assert.Equal(HttpStatusCode.OK, byText.StatusCode);
            Assert.Equal(["chelsea.png", "coffee.png", "horse.png"], results.EnumerateArray().Select(r => r.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
            Assert.Equal(["chelsea.png", "horse.png"], similar.EnumerateArray().Select(r => r.GetProperty("fileName").GetString()).Order(StringComparer.Ordinal));
            Assert.Equal("coffee.png", top.GetProperty("fileName").GetString());
            Assert.Equal(1, top.GetProperty("score").GetSingle(), 1e-4f);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static async Task<long> IndexedAsync(string db)
    {
        if (!File.Exists(db))
        {
            return 0;
        }

        try
        {
            await using var store = SqliteLibraryStore.Open(db);
            return (await store.GetStatsAsync()).Indexed;
        }
        catch (Core.ClipSearchException)
        {
            return 0;   // the child is creating the file
        }
    }
}
