using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ClipSearch.Web.Tests;

/// <summary>
/// <c>/api/model/download</c> against the fake Hub serving tiny-clip; each server gets its own home folder and Hub
/// endpoint through configuration (no process-wide environment variables: tests run in parallel).
/// </summary>
public sealed class ModelDownloadApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    private readonly TempFolder _home = new();
    private FakeHub _hub = null!;

    public async Task InitializeAsync() => _hub = await FakeHub.StartAsync(TinyClip.ModelPath);

    public async Task DisposeAsync()
    {
        _hub.HoldBodies?.TrySetResult();
        await _hub.DisposeAsync();
        _home.Dispose();
    }

    [Fact]
    public async Task Download_FromTheHub_CompletesAndLoadsTheModel()
    {
        using var server = Server(_hub.Endpoint);
        using var client = server.CreateClient();

        using var start = await client.PostAsJsonAsync("/api/model/download", new { repo = "Xenova/clip-vit-base-patch32", revision = "main", variant = "fp32" });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var started = (await start.Content.ReadFromJsonAsync<ModelDownloadStatus>(Json))!;
        Assert.Equal("Xenova/clip-vit-base-patch32", started.Repo);

        var done = await WaitAsync(client);
        Assert.Equal(ModelDownloadState.Completed, done.State);
        Assert.Null(done.Error);
        var folder = Path.Combine(_home.Path, "models", "Xenova", "clip-vit-base-patch32");
        Assert.Equal(folder, done.Directory);
        Assert.True(done.Progress!.BytesTotal > 0);
        Assert.Equal(done.Progress.BytesTotal, done.Progress.BytesDone);
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "vision_model.onnx")));

        using var model = JsonDocument.Parse(await client.GetStringAsync("/api/model"));
        Assert.Equal("loaded", model.RootElement.GetProperty("state").GetString());
        Assert.Equal(folder, model.RootElement.GetProperty("info").GetProperty("directory").GetString());
        Assert.Equal(16, model.RootElement.GetProperty("info").GetProperty("projectionDim").GetInt32());
        Assert.Equal("fp32", model.RootElement.GetProperty("info").GetProperty("variant").GetString());
    }

    [Fact]
    public async Task Download_HubUnreachable_StatusHasTheOfflineMessage()
    {
        using var server = Server("http://127.0.0.1:1");
        using var client = server.CreateClient();

        // No body at all: every field has its default (Xenova/clip-vit-base-patch32, main, fp32).
        using var start = await client.PostAsync("/api/model/download", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var done = await WaitAsync(client);

        Assert.Equal(ModelDownloadState.Failed, done.State);
        Assert.Equal(("Xenova/clip-vit-base-patch32", "main", "fp32"), (done.Repo, done.Revision, done.Variant));
        Assert.StartsWith("Cannot reach the Hugging Face Hub: 127.0.0.1:1 refused the connection.", done.Error);
        Assert.Contains("To install it by hand", done.Error);
        Assert.Contains(Path.Combine(_home.Path, "models", "Xenova", "clip-vit-base-patch32"), done.Error);
        using var model = JsonDocument.Parse(await client.GetStringAsync("/api/model"));
        Assert.Equal("empty", model.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Download_SecondWhileOneRuns_Returns409ThenTheFirstCompletes()
    {
        _hub.HoldBodies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Server(_hub.Endpoint);
        using var client = server.CreateClient();

        using var first = await client.PostAsJsonAsync("/api/model/download", new { variant = "fp32" });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var problem = await ApiTests.ProblemAsync(await client.PostAsJsonAsync("/api/model/download", new { variant = "quantized" }), HttpStatusCode.Conflict);
        Assert.Contains("already running", problem.Detail);
        Assert.Equal("Download already running", problem.Title);
        Assert.Equal(ModelDownloadState.Running, (await StatusAsync(client)).State);

        _hub.HoldBodies.SetResult();
        Assert.Equal(ModelDownloadState.Completed, (await WaitAsync(client)).State);
        Assert.Equal("fp32", JsonDocument.Parse(await client.GetStringAsync("/api/model")).RootElement.GetProperty("info").GetProperty("variant").GetString());
    }

    [Fact]
    public async Task Download_Cancelled_StateCancelledAndNoModel()
    {
        _hub.HoldBodies = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Server(_hub.Endpoint);
        using var client = server.CreateClient();

        using var start = await client.PostAsJsonAsync("/api/model/download", new { });
        using var cancel = await client.DeleteAsync("/api/model/download");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        Assert.Equal(ModelDownloadState.Cancelled, (await WaitAsync(client)).State);
        Assert.Equal("empty", JsonDocument.Parse(await client.GetStringAsync("/api/model")).RootElement.GetProperty("state").GetString());
        await ApiTests.ProblemAsync(await client.DeleteAsync("/api/model/download"), HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("""{"repo": "https://huggingface.co/x"}""", "not a Hub repository name")]
    [InlineData("""{"variant": "int4"}""", "int4")]
    public async Task Download_BadRequest_Returns400(string body, string expected)
    {
        using var server = Server(_hub.Endpoint);
        using var client = server.CreateClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var problem = await ApiTests.ProblemAsync(await client.PostAsync("/api/model/download", content), HttpStatusCode.BadRequest);

        Assert.Contains(expected, problem.Detail);
        Assert.Equal(ModelDownloadState.Idle, (await StatusAsync(client)).State);
    }

    [Fact]
    public async Task OpenApi_DescribesTheDownloadRoutes()
    {
        using var server = Server(_hub.Endpoint);
        using var client = server.CreateClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var path = doc.RootElement.GetProperty("paths").GetProperty("/api/model/download");
        Assert.True(path.TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(path.TryGetProperty("get", out _));
        Assert.True(path.TryGetProperty("delete", out _));
    }

    private WebApplicationFactory<Program> Server(string hubEndpoint) =>
        TinyClip.Server(false, ("ClipSearch:Home", _home.Path), ("ClipSearch:HubEndpoint", hubEndpoint));

    private static async Task<ModelDownloadStatus> StatusAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<ModelDownloadStatus>("/api/model/download", Json))!;

    /// <summary>Polls until the download is no longer running (bounded in time).</summary>
    private static async Task<ModelDownloadStatus> WaitAsync(HttpClient client)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = await StatusAsync(client);
            if (status.State != ModelDownloadState.Running)
            {
                return status;
            }

            Assert.True(clock.Elapsed < WaitLimit, $"The download still runs after {WaitLimit.TotalSeconds} s: {status}");
            await Task.Delay(50);
        }
    }
}
