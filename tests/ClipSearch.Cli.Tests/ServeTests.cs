namespace ClipSearch.Cli.Tests;

/// <summary><c>clipsearch serve</c> refuses bad starts with one line (the server itself is tested in ClipSearch.Web.Tests).</summary>
public sealed class ServeTests
{
    [Fact]
    public async Task Serve_AnyAddressWithoutToken_FailsWithOneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--urls", "http://0.0.0.0:0", "--token", "");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: Listening on http://0.0.0.0:0 (not loopback) needs an access token", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Serve_MissingModel_FailsWithOneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--model", "/no/such/model", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("/no/such/model", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Serve_NoModelOption_LoadsTheInstalledDefaultModel()
    {
        // An installed default whose vision graph is broken: the start fails naming the store's folder, which
        // proves serve picked it up without --model (a good one would start serving and never exit).
        using var home = new TempFolder();
        var folder = home.File("models", "Xenova", "clip-vit-base-patch32");
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        foreach (var file in new[] { "config.json", "tokenizer.json", "onnx/text_model.onnx" })
        {
            File.Copy(Fixtures.Path("tiny-clip", file), Path.Combine(folder, file));
        }

        File.WriteAllText(Path.Combine(folder, "onnx", "vision_model.onnx"), "not an onnx graph");

        var result = await CliRunner.RunAsync(new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = home.Path }, "serve", "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("vision_model.onnx", result.Stderr);
        Assert.Contains(folder, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    // Kestrel endpoints from the environment override --urls: without a token the start is refused, whatever the
    // source, and the developer environment the variables ask for is not used either.
    [Fact]
    public async Task Serve_HostileEnvironmentAndAppSettings_RefusedWithOneLine()
    {
        using var home = new TempFolder();
        using var cwd = new TempFolder();
        int[] ports = [Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free()];
        File.WriteAllText(cwd.File("appsettings.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            Kestrel = new { Endpoints = new { Evil = new { Url = $"http://0.0.0.0:{ports[0]}" } } },
            urls = $"http://0.0.0.0:{ports[1]}",
            ClipSearch = new { AllowedHosts = new[] { "*" } },
        }));
        var environment = new Dictionary<string, string>
        {
            ["CLIPSEARCH_HOME"] = home.Path,
            ["Kestrel__Endpoints__Env__Url"] = $"http://0.0.0.0:{ports[2]}",
            ["ASPNETCORE_URLS"] = $"http://0.0.0.0:{ports[3]}",
            ["ASPNETCORE_HTTP_PORTS"] = "80",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        };

        var result = await CliRunner.RunInAsync(cwd.Path, environment, "serve", "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, result.ExitCode);
        // (Kestrel's own warnings about the overridden addresses come first.)
        Assert.StartsWith($"error: Listening on http://0.0.0.0:{ports[2]} (not loopback) needs an access token", result.Stderr.Trim().Split('\n')[^1]);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
        Assert.All(ports, p => Assert.False(Ports.Listening(p), $"port {p} is open"));
    }

    // An appsettings.json in the working directory is not the server's configuration: it serves where --urls says,
    // answers only to its own host names and shows no developer pages.
    [Fact]
    public async Task Serve_AppSettingsInWorkingDirectory_Ignored()
    {
        using var home = new TempFolder();
        using var cwd = new TempFolder();
        int[] evil = [Ports.Free(), Ports.Free()];
        var port = Ports.Free();
        File.WriteAllText(cwd.File("appsettings.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            Kestrel = new { Endpoints = new { Evil = new { Url = $"http://0.0.0.0:{evil[0]}" } } },
            ClipSearch = new { AllowedHosts = new[] { "*" }, Token = "" },
            DetailedErrors = true,
        }));
        var environment = new Dictionary<string, string>
        {
            ["CLIPSEARCH_HOME"] = home.Path,
            ["ASPNETCORE_URLS"] = $"http://0.0.0.0:{evil[1]}",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        };
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var server = CliRunner.Start(["serve", "--urls", $"http://127.0.0.1:{port}"], line =>
        {
            stderr.Enqueue(line);
            if (line.Contains("ClipSearch is serving on", StringComparison.Ordinal))
            {
                serving.TrySetResult();
            }
        }, environment, cwd.Path);
        try
        {
            await serving.Task.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.All(evil, p => Assert.False(Ports.Listening(p), $"port {p} is open"));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            using (var model = await client.GetAsync("/api/model"))
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, model.StatusCode);
            }

            using var rebinding = new HttpRequestMessage(HttpMethod.Get, "/api/model");
            rebinding.Headers.Host = "attacker.example";
            using (var refused = await client.SendAsync(rebinding))
            {
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
            }

            using var missing = await client.GetAsync("/api/nothing-here");
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
            Assert.Contains(stderr, l => l.Contains("Hosting environment: Production", StringComparison.Ordinal));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:abc")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://[::ffff:127.0.0.1]:8766")]
    [InlineData("https://127.0.0.1:8766")]
    [InlineData("http://127.0.0.1:8766/base")]
    [InlineData("http://127.0.0.1:0;nonsense")]
    public async Task Serve_UnusableUrls_OneLine(string urls)
    {
        var result = await CliRunner.RunAsync("serve", "--urls", urls);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --urls: '", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Serve_AllowRootNotAFolder_RefusedAtStartWithOneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--urls", "http://127.0.0.1:0", "--allow-root", "/no/such/folder");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --allow-root: /no/such/folder is not a folder.", result.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task Serve_PortInUse_OneLine_AlsoOnTheFirstStartEver()
    {
        // A home and a HOME never used: the first start creates the UI's keys, and says nothing about them.
        using var home = new TempFolder();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var result = await CliRunner.RunAsync(
            new Dictionary<string, string> { ["CLIPSEARCH_HOME"] = Path.Combine(home.Path, "clipsearch"), ["HOME"] = home.Path },
            "serve", "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: Cannot listen on http://127.0.0.1:{port}", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("warn:", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(home.Path, "clipsearch", "keys"), "key-*.xml"));
        Assert.False(Directory.Exists(Path.Combine(home.Path, ".aspnet")), "keys written outside ClipSearch's home");
    }

    [Fact]
    public async Task Serve_ImmichClientsWithoutImmich_OneLine()
    {
        var result = await CliRunner.RunAsync("serve", "--urls", "http://127.0.0.1:0", "--immich-clients", "172.16.0.0/12");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --immich-clients says who may call the Immich routes: add --immich to serve them.", result.Stderr.Trim());
    }

    [Fact]
    public async Task Serve_BadImmichClients_OneLineNamingTheEntry()
    {
        var result = await CliRunner.RunAsync("serve", "--urls", "http://127.0.0.1:0", "--immich", "--immich-clients", "127.0.0.1/32,10.0.0.0/33");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --immich-clients (ClipSearch:Immich:Clients): '10.0.0.0/33' has the prefix length '33': it is a number from 0 to 32.", result.Stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task Help_ListsServe()
    {
        var result = await CliRunner.RunAsync("serve", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--token", result.Stdout);
        Assert.Contains("127.0.0.1:8766", result.Stdout);
        Assert.Contains("--immich-clients", result.Stdout);
        Assert.Contains("--embed-url-hosts", result.Stdout);
    }
}
