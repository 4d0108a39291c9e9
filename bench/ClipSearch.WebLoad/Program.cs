// Bounded load run of POST /api/match on a running ClipSearch server (loopback): one image and two texts per
// request, C concurrent clients, at most N requests and T seconds; prints p50/p99 latency, throughput, and the
// server's resident memory (GET /api/model → workingSetBytes) every `--memory-every` requests.
//   dotnet run --project bench/ClipSearch.WebLoad -c Release -- --url http://127.0.0.1:8766 --image IMG --clients 8 --requests 2000
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

var options = Arguments.Parse(args);
using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromSeconds(120) };
var image = File.ReadAllBytes(options.Image);
string[] texts = ["a photo of a cat", "a colourful gradient"];

for (var i = 0; i < options.Warmup; i++)
{
    await MatchAsync();
}

var latencies = new List<double>(options.Requests);
var clock = Stopwatch.StartNew();
var deadline = TimeSpan.FromSeconds(options.Seconds);
var issued = 0;
var failures = 0;
var memory = new List<(int Done, long Bytes)> { (0, await WorkingSetAsync()) };
var nextSample = options.MemoryEvery;
var gate = new object();

await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(async () =>
{
    while (Interlocked.Increment(ref issued) <= options.Requests && clock.Elapsed < deadline)
    {
        var start = Stopwatch.GetTimestamp();
        var ok = await MatchAsync();
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        bool sample;
        lock (gate)
        {
            latencies.Add(ms);
            failures += ok ? 0 : 1;
            sample = latencies.Count >= nextSample;
            if (sample)
            {
                nextSample += options.MemoryEvery;
            }
        }

        if (sample)
        {
            var bytes = await WorkingSetAsync();
            lock (gate)
            {
                memory.Add((latencies.Count, bytes));
            }
        }
    }
})));
var elapsed = clock.Elapsed;
memory.Add((latencies.Count, await WorkingSetAsync()));

latencies.Sort();
var c = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(c, $"clients={options.Clients} requests={latencies.Count} failures={failures} seconds={elapsed.TotalSeconds:F1} rps={latencies.Count / elapsed.TotalSeconds:F1}"));
Console.WriteLine(string.Create(c, $"latency_ms p50={Percentile(0.50):F1} p90={Percentile(0.90):F1} p99={Percentile(0.99):F1} max={latencies[^1]:F1}"));
Console.WriteLine("server_rss_mb " + string.Join(" ", memory.Select(m => string.Create(c, $"{m.Done}:{m.Bytes / 1048576.0:F0}"))));
return failures == 0 ? 0 : 1;

double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];

async Task<bool> MatchAsync()
{
    using var form = new MultipartFormDataContent();
    var file = new ByteArrayContent(image);
    file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
    form.Add(file, "images", Path.GetFileName(options.Image));
    foreach (var text in texts)
    {
        form.Add(new StringContent(text), "texts");
    }

    using var response = await http.PostAsync("/api/match", form);
    await response.Content.ReadAsByteArrayAsync();
    return response.IsSuccessStatusCode;
}

async Task<long> WorkingSetAsync()
{
    using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/model"));
    return doc.RootElement.GetProperty("workingSetBytes").GetInt64();
}

internal sealed record Arguments(string Url, string Image, int Clients, int Requests, int Seconds, int Warmup, int MemoryEvery)
{
    public static Arguments Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        return new Arguments(Get("--url", "http://127.0.0.1:8766"), Get("--image", "../shared/fixtures/images/gradient_640x480.png"),
            Int("--clients", 1), Int("--requests", 500), Int("--seconds", 300), Int("--warmup", 20), Int("--memory-every", 500));
    }
}
