using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ClipSearch.Tests;

/// <summary>
/// A Hugging Face Hub on 127.0.0.1 (random port) serving one folder as one repository in the Hub's URL scheme:
/// <c>/{owner}/{name}/resolve/{rev}/{path}</c> answers LFS files (.onnx, .onnx_data, .safetensors) with a 302 to a
/// CDN-like <c>/cdn/…</c> path and the <c>X-Linked-Etag</c> (sha256) / <c>X-Linked-Size</c> headers, small files
/// directly with an ETag; Range gives 206 with Content-Range; HEAD works; <c>/api/models/{repo}/tree/{rev}/{folder}</c>
/// lists a folder. Faults: cut the connection once after N bytes, lie about a sha256, require a token, no tree API.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private readonly WebApplication _app;
    private readonly string _folder;
    private readonly string _repo;
    private readonly ConcurrentDictionary<string, string> _sha256 = new();

    private FakeHub(WebApplication app, string folder, string repo)
    {
        _app = app;
        _folder = folder;
        _repo = repo;
    }

    public sealed record SeenRequest(string Method, string Path, string? Range, string? Authorization);

    public string Endpoint { get; private set; } = "";

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public bool TreeApi { get; set; } = true;

    public string? RequiredToken { get; set; }

    /// <summary>Absolute base of the CDN redirects (another host name for the same server), or null for a relative redirect.</summary>
    public string? CdnBase { get; set; }

    /// <summary>Repository path → bytes after which the next GET of it is cut off (once).</summary>
    public ConcurrentDictionary<string, long> CutOnceAfter { get; } = new();

    /// <summary>While set, every GET of a file body waits for it (a download that is "still running").</summary>
    public TaskCompletionSource? HoldBodies { get; set; }

    /// <summary>Repository path → sha256 announced instead of the real one.</summary>
    public ConcurrentDictionary<string, string> LieSha256 { get; } = new();

    public static async Task<FakeHub> StartAsync(string folder, string repo = "Xenova/clip-vit-base-patch32")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var hub = new FakeHub(app, folder, repo);
        app.Use(async (context, next) =>
        {
            hub.Requests.Enqueue(new SeenRequest(context.Request.Method, context.Request.Path.Value!,
                context.Request.Headers.Range.FirstOrDefault(), context.Request.Headers.Authorization.FirstOrDefault()));
            await next(context);
        });
        app.MapGet("/api/models/{owner}/{name}/tree/{rev}/{**path}", hub.TreeAsync);
        app.MapMethods("/{owner}/{name}/resolve/{rev}/{**path}", ["GET", "HEAD"], hub.ResolveAsync);
        app.MapMethods("/cdn/{owner}/{name}/{**path}", ["GET", "HEAD"], hub.CdnAsync);
        await app.StartAsync();
        hub.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return hub;
    }

    /// <summary>GETs of a file's body (redirected to the CDN for LFS files), in order.</summary>
    public IEnumerable<SeenRequest> BodyRequests(string path) =>
        Requests.Where(r => r.Method == "GET" && (r.Path.EndsWith("/" + path, StringComparison.Ordinal)) && r.Path.StartsWith("/cdn/", StringComparison.Ordinal)
            || r.Method == "GET" && r.Path.EndsWith("/resolve/main/" + path, StringComparison.Ordinal) && !IsLfs(path));

    public string Sha256Of(string path) => _sha256.GetOrAdd(path, p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Local(p)))));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task TreeAsync(HttpContext context, string owner, string name, string rev, string path)
    {
        if (!TreeApi)
        {
            context.Response.StatusCode = 404;
            return;
        }

        if (!CheckRepo(context, owner, name, rev))
        {
            return;
        }

        var dir = Local(path);
        var entries = Directory.Exists(dir)
            ? Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f =>
            {
                var rel = path.TrimEnd('/') + "/" + Path.GetFileName(f);
                var size = new FileInfo(f).Length;
                return (object)new { type = "file", oid = "x", size, path = rel, lfs = IsLfs(rel) ? new { oid = Sha256Of(rel), size, pointerSize = 134 } : null };
            }).ToList()
            : [];
        await context.Response.WriteAsJsonAsync(entries);
    }

    private async Task ResolveAsync(HttpContext context, string owner, string name, string rev, string path)
    {
        if (!CheckRepo(context, owner, name, rev))
        {
            return;
        }

        if (!File.Exists(Local(path)))
        {
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Error-Code"] = "EntryNotFound";
            return;
        }

        context.Response.Headers["X-Repo-Commit"] = Commit;
        if (IsLfs(path))
        {
            var sha = LieSha256.TryGetValue(path, out var lie) ? lie : Sha256Of(path);
            context.Response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
            context.Response.Headers["X-Linked-Size"] = new FileInfo(Local(path)).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers.ETag = $"\"{sha}\"";
            context.Response.Redirect($"{CdnBase}/cdn/{owner}/{name}/{path}?expires=1");
            return;
        }

        context.Response.Headers.ETag = $"\"{Sha256Of(path)[..40]}\"";
        await ServeAsync(context, path);
    }

    private async Task CdnAsync(HttpContext context, string owner, string name, string path)
    {
        if ($"{owner}/{name}" != _repo || !File.Exists(Local(path)))
        {
            context.Response.StatusCode = 404;
            return;
        }

        await ServeAsync(context, path);
    }

    private bool CheckRepo(HttpContext context, string owner, string name, string rev)
    {
        var token = context.Request.Headers.Authorization.FirstOrDefault();
        if ($"{owner}/{name}" != _repo || (RequiredToken is not null && token != $"Bearer {RequiredToken}"))
        {
            context.Response.StatusCode = 401;
            context.Response.Headers["X-Error-Code"] = "RepoNotFound";
            return false;
        }

        if (rev is not ("main" or Commit))
        {
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Error-Code"] = "RevisionNotFound";
            return false;
        }

        return true;
    }

    private async Task ServeAsync(HttpContext context, string path)
    {
        var bytes = await File.ReadAllBytesAsync(Local(path));
        var start = 0L;
        var range = context.Request.Headers.Range.FirstOrDefault();
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= bytes.Length)
            {
                context.Response.StatusCode = 416;
                context.Response.Headers.ContentRange = $"bytes */{bytes.Length}";
                return;
            }

            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }

        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = bytes.Length - start;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        if (HoldBodies is { } hold)
        {
            await hold.Task.WaitAsync(context.RequestAborted);
        }

        if (CutOnceAfter.TryRemove(path, out var cut) && cut > start)
        {
            await context.Response.Body.WriteAsync(bytes.AsMemory((int)start, (int)(cut - start)));
            await context.Response.Body.FlushAsync();
            await Task.Delay(200);
            context.Abort();
            return;
        }

        await context.Response.Body.WriteAsync(bytes.AsMemory((int)start));
    }

    private string Local(string path) => Path.Combine(_folder, path.Replace('/', Path.DirectorySeparatorChar));

    private static bool IsLfs(string path) =>
        path.EndsWith(".onnx", StringComparison.Ordinal) || path.EndsWith(".onnx_data", StringComparison.Ordinal)
        || path.EndsWith(".safetensors", StringComparison.Ordinal);
}
