using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ClipSearch.Cli.Tests;

/// <summary>
/// A corpus of bad input — broken, odd and hostile files, malformed multipart and JSON bodies — made by the test and
/// posted to every upload route and every JSON route of a real <c>clipsearch serve --library</c>. Every answer is
/// 2xx or 4xx with a problem details body, never 5xx; <c>/health</c> answers within a second throughout; the
/// server's peak resident memory stays under its decode budget plus a stated margin.
/// <para>
/// It runs alone (<see cref="AloneCollection"/>): the one-second bound is on the server under the corpus, not on a
/// two-core machine that is also starting other tests' servers and JIT-compiling them.
/// </para>
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class BadInputCorpusTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The server's decode budget in MiB: the least it accepts for 100-megapixel images (one with its rotated copy).</summary>
    private const int DecodeBudgetMegabytes = 800;

    /// <summary>
    /// Memory above the idle server's and its decode budget that the run may take: uploads held while requests are
    /// read, thumbnails, ONNX Runtime's buffers for a batch, the managed heap's slack.
    /// </summary>
    private const long MarginBytes = 400L * 1024 * 1024;

    private static readonly TimeSpan HealthLimit = TimeSpan.FromSeconds(1);
    private static readonly string[] UploadRoutes = ["/api/embed", "/api/match", "/api/classify", "/api/search", "/api/images"];
    private readonly TempFolder _home = new();
    private readonly TempFolder _photos = new();
    private readonly ConcurrentQueue<string> _log = new();
    private Process _server = null!;
    private HttpClient _client = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var port = Ports.Free();
        _base = new Uri($"http://127.0.0.1:{port}");
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server = CliRunner.Start(
            ["serve", "--model", Fixtures.Path("tiny-clip"), "--threads", "1", "--urls", _base.ToString().TrimEnd('/'),
             "--library", Path.Combine(_home.Path, "library.db"), "--decode-budget-mb", DecodeBudgetMegabytes.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            line =>
            {
                _log.Enqueue(line);
                if (line.Contains("ClipSearch is serving on", StringComparison.Ordinal))
                {
                    serving.TrySetResult();
                }
            },
            new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = _home.Path, ["HF_ENDPOINT"] = "http://127.0.0.1:9" });
        await serving.Task.WaitAsync(TimeSpan.FromMinutes(1));
        _client = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        _home.Dispose();
        _photos.Dispose();
    }

    [Fact]
    public async Task Corpus_EveryRoute_NeverA5xx_HealthWithinASecond_MemoryUnderTheBudget()
    {
        // Warm up (first requests JIT the routes), then read what the idle server holds.
        using (var warm = await _client.PostAsync("/api/embed", Form(("images", "horse.png", File.ReadAllBytes(Fixtures.Path("images", "horse.png")))))) { }

        var idle = Memory("VmRSS");
        var failures = new ConcurrentQueue<string>();
        using var stopHealth = new CancellationTokenSource();
        var health = Task.Run(() => WatchHealthAsync(stopHealth.Token));
        var clock = Stopwatch.StartNew();
        var requests = 0;
        using (var gate = new SemaphoreSlim(8))
        {
            await Task.WhenAll(Requests().Select(async make =>
            {
                await gate.WaitAsync();
                try
                {
                    using var request = make();
                    var what = $"{request.Method} {request.RequestUri}";
                    using var response = await _client.SendAsync(request);
                    Interlocked.Increment(ref requests);
                    var body = await response.Content.ReadAsStringAsync();
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Enqueue($"{what}: {(int)response.StatusCode} {body}");
                    }
                    else if ((int)response.StatusCode >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                        && !KestrelRefuses(request))
                    {
                        failures.Enqueue($"{what}: {(int)response.StatusCode} without problem details ({response.Content.Headers.ContentType})");
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await stopHealth.CancelAsync();
        var (healthChecks, slowest, healthFailures, times) = await health;
        var peak = Memory("VmHWM");
        Assert.True(failures.IsEmpty, string.Join("\n", failures));
        Assert.True(healthFailures.Count == 0, string.Join("\n", healthFailures));
        Assert.True(healthChecks > 10, $"only {healthChecks} health checks in {clock.Elapsed}");
        times.Sort();
        var p99 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.99) - 1)];
        Assert.True(slowest < HealthLimit, $"/health took {slowest.TotalMilliseconds:F0} ms at worst (p99 {p99.TotalMilliseconds:F0} ms, {healthChecks} checks)");
        var bound = idle + (DecodeBudgetMegabytes * 1024L * 1024L) + MarginBytes;
        output.WriteLine($"corpus: {requests} requests, idle {idle / 1e6:F0} MB, peak {peak / 1e6:F0} MB, health checks {healthChecks}, p99 {p99.TotalMilliseconds:F0} ms, slowest {slowest.TotalMilliseconds:F0} ms, {clock.Elapsed}");
        Assert.True(peak <= bound, $"peak resident {peak / 1e6:F0} MB over {bound / 1e6:F0} MB (idle {idle / 1e6:F0} MB + budget {DecodeBudgetMegabytes} MiB + margin); {requests} requests");
        Assert.False(_server.HasExited, "the server exited:\n" + string.Join("\n", _log));
    }

    private async Task<(int Checks, TimeSpan Slowest, List<string> Failures, List<TimeSpan> Times)> WatchHealthAsync(CancellationToken stop)
    {
        using var client = new HttpClient { BaseAddress = _base, Timeout = HealthLimit };
        var checks = 0;
        var slowest = TimeSpan.Zero;
        var failures = new List<string>();
        var times = new List<TimeSpan>();
        while (!stop.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                using var response = await client.GetAsync("/health", CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"/health answered {(int)response.StatusCode}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"/health did not answer within {HealthLimit.TotalSeconds} s: {e.Message}");
            }

            checks++;
            times.Add(clock.Elapsed);
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (checks, slowest, failures, times);
    }

    private long Memory(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_server.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"{field} not in /proc/{_server.Id}/status");
    }

    // Every request of the corpus, made fresh when sent.
    private IEnumerable<Func<HttpRequestMessage>> Requests()
    {
        foreach (var (name, bytes) in Files())
        {
            foreach (var route in UploadRoutes)
            {
                var field = route is "/api/classify" or "/api/search" ? "image" : "images";
                yield return () => Post(route, UploadForm(route, field, name, bytes));
            }
        }

        // Four 100-megapixel images per request, eight requests at once: what the decode budget is for.
        var huge = TestImages.SolidPng(10_000, 10_000);
        for (var i = 0; i < 8; i++)
        {
            yield return () => Post("/api/match", Form(
                ("images", "a.png", huge), ("images", "b.png", huge), ("images", "c.png", huge), ("images", "d.png", huge), ("texts", null, "a cat"u8.ToArray())));
        }

        foreach (var route in UploadRoutes)
        {
            foreach (var body in MalformedMultipart())
            {
                yield return () => Post(route, body());
            }
        }

        string[] jsonRoutes = ["/api/search", "/api/model/load", "/api/model/download", "/api/library/folders"];
        foreach (var route in jsonRoutes)
        {
            foreach (var (contentType, body) in JsonBodies())
            {
                yield return () => Post(route, Raw(body, contentType));
            }
        }

        foreach (var path in OddPaths())
        {
            yield return () => new HttpRequestMessage(HttpMethod.Get, path);
        }

        foreach (var folder in new[] { "", "relative", "/", "/nope", "%00", "/tmp%00x", Uri.EscapeDataString(_photos.Path), new string('a', 5000) })
        {
            yield return () => new HttpRequestMessage(HttpMethod.Delete, $"/api/library/folders?path={folder}");
        }

        yield return () => new HttpRequestMessage(HttpMethod.Post, "/api/library/index/stop");
        yield return () => new HttpRequestMessage(HttpMethod.Delete, "/api/model/download");
    }

    // Kestrel itself answers a NUL in the path with a bare 400 before any of the server's code runs (it cannot be
    // given a body); everything else must be the server's own problem details.
    private static bool KestrelRefuses(HttpRequestMessage request) =>
        request.RequestUri!.OriginalString.Split('?')[0].Contains("%00", StringComparison.Ordinal);

    private static HttpRequestMessage Post(string route, HttpContent content) => new(HttpMethod.Post, route) { Content = content };

    private static MultipartFormDataContent UploadForm(string route, string field, string name, byte[] bytes)
    {
        var form = Form((field, name, bytes));
        if (route == "/api/match")
        {
            form.Add(new StringContent("a photo of a cat"), "texts");
        }
        else if (route == "/api/classify")
        {
            form.Add(new StringContent("cat\ndog"), "labels");
        }

        return form;
    }

    private static MultipartFormDataContent Form(params (string Field, string? FileName, byte[] Bytes)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, fileName, bytes) in parts)
        {
            var content = new ByteArrayContent(bytes);
            if (fileName is null)
            {
                form.Add(content, field);
            }
            else
            {
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(content, field, fileName);
            }
        }

        return form;
    }

    private static ByteArrayContent Raw(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return content;
    }

    /// <summary>Files that are not what their names say, are broken, or are images at and over the limits.</summary>
    private static IEnumerable<(string Name, byte[] Bytes)> Files()
    {
        var horse = File.ReadAllBytes(Fixtures.Path("images", "horse.png"));
        var jpeg = File.ReadAllBytes(Fixtures.Path("images", "exif_orientation6.jpg"));
        var webp = File.ReadAllBytes(Fixtures.Path("images", "gradient.webp"));
        var bmp = File.ReadAllBytes(Fixtures.Path("images", "small_50x40.bmp"));
        yield return ("empty.png", []);
        yield return ("one.jpg", [0xFF]);
        yield return ("random.jpg", RandomBytes(4096, 1));
        yield return ("notes.txt", "just some text\n"u8.ToArray());
        yield return ("page.png", "<html><script>alert(1)</script></html>"u8.ToArray());
        yield return ("drawing.svg", "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>"u8.ToArray());
        yield return ("scan.tif", [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0, 0]);
        yield return ("icon.ico", [0, 0, 1, 0, 1, 0, 16, 16, 0, 0]);
        yield return ("cut.png", horse[..40]);
        yield return ("half.png", horse[..(horse.Length / 2)]);
        yield return ("half.jpg", jpeg[..(jpeg.Length / 2)]);
        yield return ("cut.webp", webp[..30]);
        yield return ("cut.bmp", bmp[..20]);
        yield return ("gif-header.gif", "GIF89a\u0001\u0000"u8.ToArray());
        yield return ("huge-header.png", PatchPngSize(TestImages.SolidPng(2, 2), 100_000, 100_000));
        yield return ("zero-size.png", PatchPngSize(TestImages.SolidPng(2, 2), 0, 0));
        yield return ("thin-header.png", PatchPngSize(TestImages.SolidPng(2, 2), 1, 99_000_000));
        yield return ("negative.png", PatchPngSize(TestImages.SolidPng(2, 2), -1, -1));
        yield return ("huge-sof.jpg", JpegWithSize(65_500, 65_500));
        yield return ("huge.bmp", BmpHeader(100_000, -100_000));
        yield return ("bad-crc.png", CorruptCrc(horse));
        yield return ("random-middle.png", [.. horse[..100], .. RandomBytes(horse.Length - 100, 2)]);
        yield return ("at-the-limit.png", TestImages.SolidPng(10_000, 10_000));
        yield return ("polyglot.jpg", [.. jpeg, .. "PK\u0003\u0004"u8.ToArray(), .. RandomBytes(512, 3)]);
        yield return ("horse\u202Egnp.exe", horse);

        // The formats read through ImageMagick (issue #11): cut, garbled, lying about their size, or only a signature.
        var heic = File.ReadAllBytes(Fixtures.Path("formats", "images", "chelsea.heic"));
        var avif = File.ReadAllBytes(Fixtures.Path("formats", "images", "coffee.avif"));
        var tiff = File.ReadAllBytes(Fixtures.Path("formats", "images", "astronaut.tif"));
        var jxl = File.ReadAllBytes(Fixtures.Path("formats", "images", "motorcycle_right.jxl"));
        yield return ("cut.heic", heic[..(heic.Length / 2)]);
        yield return ("random-middle.heic", [.. heic[..600], .. RandomBytes(heic.Length - 600, 4)]);
        yield return ("ftyp-only.heic", heic[..32]);
        yield return ("cut.avif", avif[..(avif.Length / 3)]);
        yield return ("cut.tif", tiff[..(tiff.Length / 2)]);
        yield return ("huge-header.tif", TiffWithSize(100_000, 100_000));
        yield return ("zero-size.tif", TiffWithSize(0, 0));
        yield return ("cut.jxl", jxl[..(jxl.Length / 2)]);
        yield return ("signature.jxl", [0xFF, 0x0A]);
        yield return ("fake.dng", [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0xC6, 1, 0, 4, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0]);
        yield return ("ftyp-only.cr3", "\0\0\0\u0018ftypcrx \0\0\0\u0001crx isom"u8.ToArray());
        yield return ("heic-named.jpg", heic);
        yield return ("../../../etc/passwd", horse);
        yield return (new string('n', 5000) + ".png", horse);
        yield return ("tab\there\u0085\u007F.png", horse);
        yield return ("\u202E", horse);
    }

    private static IEnumerable<Func<HttpContent>> MalformedMultipart()
    {
        var horse = File.ReadAllBytes(Fixtures.Path("images", "horse.png"));
        const string b = "corpus-boundary";
        var part = $"--{b}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"horse.png\"\r\nContent-Type: image/png\r\n\r\n";
        yield return () => Raw(Encoding.ASCII.GetBytes(part), "multipart/form-data");                                  // no boundary
        yield return () => Raw(Encoding.ASCII.GetBytes(part + "x\r\n--" + b + "--\r\n"), "multipart/form-data; boundary=other");
        yield return () => Raw([.. Encoding.ASCII.GetBytes(part), .. horse[..500]], $"multipart/form-data; boundary={b}");   // cut mid-part
        yield return () => Raw([.. Encoding.ASCII.GetBytes(part), .. horse], $"multipart/form-data; boundary={b}");          // no closing boundary
        yield return () => Raw(Encoding.ASCII.GetBytes($"--{b}\r\n\r\nno disposition\r\n--{b}--\r\n"), $"multipart/form-data; boundary={b}");
        yield return () => Raw(Encoding.ASCII.GetBytes($"--{b}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"x\"\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n--{b}--\r\n"), $"multipart/form-data; boundary={b}");
        yield return () => Raw(Encoding.ASCII.GetBytes($"--{b}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"x\"\r\nX-Pad: {new string('p', 20_000)}\r\n\r\nx\r\n--{b}--\r\n"), $"multipart/form-data; boundary={b}");
        yield return () => Raw("--"u8.ToArray(), $"multipart/form-data; boundary={b}");
        yield return () => Raw([], $"multipart/form-data; boundary={b}");
        yield return () => Raw(Encoding.ASCII.GetBytes(part), "multipart/form-data; boundary=\"\"");
        yield return () => Raw(Encoding.ASCII.GetBytes(part), $"multipart/form-data; boundary={new string('b', 200)}");
        yield return () => Raw("images=horse.png&texts=a+cat"u8.ToArray(), "application/x-www-form-urlencoded");
        yield return () => Raw("a cat"u8.ToArray(), "text/plain");
        yield return () => Raw([], null);
        yield return () =>
        {
            var form = new MultipartFormDataContent();
            for (var i = 0; i < 2000; i++)
            {
                form.Add(new StringContent("x"), "texts");
            }

            return form;
        };
        yield return () => Form(("texts", null, Encoding.UTF8.GetBytes(new string('x', 5_000_000))));
        yield return () => Form(("texts", null, Encoding.UTF8.GetBytes(new string('x', 20_000))), ("images", "horse.png", horse));
        yield return () => Form([.. Enumerable.Range(0, 40).Select(i => ("images", (string?)$"{i}.png", horse))]);
        yield return () => Form(("labels", null, "\n\n\n"u8.ToArray()), ("image", "horse.png", horse), ("k", null, "NaN"u8.ToArray()));
        yield return () => Form(("image", "horse.png", horse), ("preset", null, "../../etc/passwd"u8.ToArray()));
        yield return () => Form(("image", "horse.png", horse), ("labels", null, "cat"u8.ToArray()), ("templates", null, "no placeholder"u8.ToArray()));
        yield return () => Form(("image", "horse.png", horse), ("k", null, "99999999999999999999"u8.ToArray()), ("offset", null, "-1"u8.ToArray()), ("minScore", null, "Infinity"u8.ToArray()));
    }

    private static IEnumerable<(string? ContentType, byte[] Body)> JsonBodies()
    {
        const string json = "application/json";
        string[] bodies =
        [
            "", " ", "null", "[]", "\"x\"", "123", "true", "{", "{\"text\":", "{\"text\": 5}", "{\"text\": null}", "{\"text\": \"\"}",
            "{\"text\": \"a\", \"k\": 0}", "{\"text\": \"a\", \"k\": 1e99}", "{\"text\": \"a\", \"k\": -1}", "{\"text\": \"a\", \"k\": 2147483648}",
            "{\"text\": \"a\", \"offset\": -5}", "{\"text\": \"a\", \"minScore\": 2}", "{\"text\": \"a\", \"minScore\": \"NaN\"}",
            "{\"imageId\": \"../../etc/passwd\"}", "{\"imageId\": \"\\u0000\"}", "{\"text\": \"a\", \"imageId\": \"b\"}",
            "{\"text\": \"a\\u0000b\"}", "{\"text\": \"\\ud800\"}", "{\"text\": \"a\", \"text\": \"b\"}",
            "{\"path\": \"relative/x\"}", "{\"path\": \"/nonexistent\"}", "{\"path\": \"/etc/passwd\"}", "{\"path\": \"\\u0000\"}", "{\"path\": 5}",
            "{\"path\": \"/tmp\", \"variant\": \"int3\"}", "{\"path\": \"/tmp\", \"threads\": 100000}", "{\"path\": \"/tmp\", \"threads\": -1}",
            "{\"repo\": \"../../x\"}", "{\"repo\": \"a/b\", \"revision\": \"../../../etc\"}", "{\"repo\": \"\", \"variant\": \"nope\"}", "{\"repo\": 5}",
            new string('[', 5000) + new string(']', 5000),
            "{\"text\": \"" + new string('x', 30_000) + "\"}",
            "{\"text\": \"" + new string('x', 2_000_000) + "\"}",
        ];
        foreach (var body in bodies)
        {
            yield return (json, Encoding.UTF8.GetBytes(body));
        }

        yield return (json, [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]);                       // not UTF-8
        yield return ("application/json; charset=utf-16", Encoding.Unicode.GetBytes("{\"text\": \"a cat\"}"));
        yield return ("application/json; charset=nonsense", "{\"text\": \"a cat\"}"u8.ToArray());
        yield return ("text/plain", "{\"text\": \"a cat\"}"u8.ToArray());
        yield return (null, "{\"text\": \"a cat\"}"u8.ToArray());
        yield return ("application/json; =", "{}"u8.ToArray());
    }

    private static IEnumerable<string> OddPaths() =>
    [
        "/api/images/0123456789abcdef0123456789abcdef", "/api/images/x/thumbnail", "/api/images/..%2F..%2Fetc%2Fpasswd",
        "/api/images/%01", "/api/images/" + new string('a', 4000), "/culture/xx?redirect=%2F%5Cevil.example", "/culture/%2e%2e",
        "/api/nothing", "/api/model/..%2F..%2F", "/api/library/errors?x=%00", "/scalar/%00x", "/_framework/%01.js", "/%C0%AF",
    ];

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    // The IHDR of a PNG says another size (its CRC recomputed, so that decoders read the header as valid).
    private static byte[] PatchPngSize(byte[] png, int width, int height)
    {
        var copy = png.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), PngChunks.Crc32(copy.AsSpan(12, 17)));
        return copy;
    }

    private static byte[] CorruptCrc(byte[] png)
    {
        var copy = png.ToArray();
        copy[29] ^= 0xFF;
        return copy;
    }

    // SOI, a baseline SOF0 of that size with three components, then the end.
    private static byte[] JpegWithSize(int width, int height) =>
    [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03,
        0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9,
    ];

    // A baseline RGB TIFF header and directory claiming that size, its one strip past the end of the file.
    private static byte[] TiffWithSize(int width, int height)
    {
        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (0x100, 4, (uint)width), (0x101, 4, (uint)height), (0x102, 3, 8), (0x103, 3, 1), (0x106, 3, 2),
            (0x111, 4, 4096), (0x115, 3, 3), (0x116, 4, (uint)height), (0x117, 4, uint.MaxValue / 2),
        ];
        var bytes = new byte[8 + 2 + (12 * entries.Length) + 4];
        "II"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            var at = 10 + (12 * i);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 2), entries[i].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 4), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 8), entries[i].Value);
        }

        return bytes;
    }

    private static byte[] BmpHeader(int width, int height)
    {
        var bytes = new byte[54];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        return bytes;
    }
}
