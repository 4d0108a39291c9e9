using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClipSearch.Core;
using ClipSearch.Web.Security;
using ClipSearch.Web.Services;

namespace ClipSearch.Web.Tests;

/// <summary>
/// What a web page of another site, a DNS-rebinding page or a careless configuration can do to a server on a real
/// loopback port: nothing. Each test says which attack it plays.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await LoopbackServer.StartAsync(settings:
            [("ClipSearch:AllowedHosts:0", "photos.lan"), ("ClipSearch:AllowedHosts:1", "nas.lan:8766"), ("ClipSearch:AllowedHosts:2", "[fd00::1]:8766"), ("ClipSearch:MaxJsonBytes", "4096")]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // DNS rebinding: a page on attacker.example whose name now resolves to 127.0.0.1 sends its own name as Host.
    [Theory]
    [InlineData("attacker.example")]
    [InlineData("attacker.example:{port}")]
    [InlineData("127.0.0.1.nip.io:{port}")]
    [InlineData("localhost.attacker.example")]
    [InlineData("photos.lan.attacker.example")]
    public async Task Get_ForeignHost_Refused(string host)
    {
        foreach (var path in new[] { "/api/model", "/api/images", "/", "/openapi/v1.json", "/health" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host.Replace("{port}", _server.Uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var problem = await ApiTests.ProblemAsync(await _server.Client.SendAsync(request), HttpStatusCode.Forbidden);
            Assert.Equal("Unknown host", problem.Title);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:{port}")]
    [InlineData("localhost:{port}")]
    [InlineData("LOCALHOST")]
    [InlineData("[::1]:{port}")]
    [InlineData("127.0.0.2")]
    [InlineData("app.localhost:{port}")]
    [InlineData("photos.lan:{port}")]
    [InlineData("nas.lan")]                 // configured as nas.lan:8766: the port is not part of the name
    [InlineData("[fd00::1]:{port}")]        // configured as [fd00::1]:8766
    public async Task Get_OwnHost_Answers(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/model");
        request.Headers.Host = host.Replace("{port}", _server.Uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Cross-site "simple" requests need no preflight: a form post or fetch(…, {mode: "no-cors"}) with text/plain.
    [Theory]
    [InlineData("Origin", "http://attacker.example")]
    [InlineData("Origin", "null")]
    [InlineData("Origin", "http://127.0.0.1:1")]          // another local server (same site, other origin)
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task SimplePost_FromAnotherSite_RefusedAndChangesNothing(string header, string value)
    {
        (string Path, HttpContent? Body)[] attacks =
        [
            ("/api/model/unload", new StringContent("x", Encoding.UTF8, "text/plain")),
            ("/api/model/download", new StringContent("{\"repo\":\"attacker/model\"}", Encoding.UTF8, "text/plain")),
            ("/api/images", TinyClip.Form([TinyClip.Image("horse.png")], [])),
            ("/api/model/load", new FormUrlEncodedContent([new("path", "/tmp")])),
            ("/api/search", new StringContent("{\"text\":\"a cat\"}", Encoding.UTF8, "application/json")),
        ];
        foreach (var (path, body) in attacks)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body };
            request.Headers.TryAddWithoutValidation(header, value);
            var problem = await ApiTests.ProblemAsync(await _server.Client.SendAsync(request), HttpStatusCode.Forbidden);
            Assert.Equal("Cross-site request refused", problem.Title);
        }

        Assert.True(_server.Get<ModelHost>().IsLoaded);
        Assert.Equal("idle", (await _server.Client.GetFromJsonAsync<JsonElement>("/api/model/download")).GetProperty("state").GetString());
        Assert.Equal(0, _server.Get<IImageSearch>().Count);
    }

    // The same requests from the UI itself (same origin), from curl or a script (no Origin), and from a bookmark.
    [Theory]
    [InlineData(null, null)]
    [InlineData("Origin", "{origin}")]
    [InlineData("Sec-Fetch-Site", "same-origin")]
    [InlineData("Sec-Fetch-Site", "none")]
    public async Task Post_SameOriginOrScript_Passes(string? header, string? value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images") { Content = TinyClip.Form([TinyClip.Image("horse.png")], []) };
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value!.Replace("{origin}", _server.BaseUrl.TrimEnd('/'), StringComparison.Ordinal));
        }

        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // A link from another site opens the UI; an <img> or <script> of another site's page does not load anything.
    [Fact]
    public async Task Get_FromAnotherSite_OnlyTopLevelNavigationPasses()
    {
        using var navigation = new HttpRequestMessage(HttpMethod.Get, "/");
        navigation.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        navigation.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "navigate");
        navigation.Headers.TryAddWithoutValidation("Sec-Fetch-Dest", "document");
        using (var response = await _server.Client.SendAsync(navigation))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        }

        foreach (var (mode, dest, path) in new[] { ("no-cors", "image", "/api/images/0123/thumbnail"), ("no-cors", "script", "/api/model"), ("navigate", "iframe", "/"), ("cors", "empty", "/api/model") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", mode);
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Dest", dest);
            await ApiTests.ProblemAsync(await _server.Client.SendAsync(request), HttpStatusCode.Forbidden);
        }
    }

    // Cross-site WebSocket hijacking: another site's page opening the Blazor circuit would drive the whole UI.
    [Fact]
    public async Task WebSocket_FromAnotherOrigin_Refused()
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", "http://attacker.example");
        var uri = new Uri(_server.BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + "/_blazor?id=x");
        var e = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        Assert.Contains("403", e.Message + e.InnerException?.Message, StringComparison.Ordinal);
    }

    // The query as a browser would send it (not escaped again): ?redirect=/%5Cevil.example is "/\evil.example".
    [Theory]
    [InlineData("/%5Cevil.example", "/")]
    [InlineData("%2F%2Fevil.example%2F", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/%2F/evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("javascript:alert(1)", "/")]
    [InlineData("/%00", "/")]
    [InlineData("%2Fmatch%3Fx%3D1", "/match?x=1")]
    [InlineData("/%C3%A9", "/%C3%A9")]                 // é: a Location header carries ASCII only
    [InlineData("/%E2%80%AE", "/%E2%80%AE")]
    [InlineData("/a%20b", "/a%20b")]
    [InlineData("", "/")]
    public async Task CultureSwitch_Redirect_OnlyToThisServer(string redirect, string expected)
    {
        using var response = await _server.Client.GetAsync($"/culture/zh-CN?redirect={redirect}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.OriginalString);
    }

    // Kestrel itself refuses a NUL in the path (400, before any of our code); other control characters reach us.
    [Theory]
    [InlineData("/api/images/%00")]
    [InlineData("/api/images/a%00b/thumbnail")]
    public async Task Get_NulInPath_400(string path)
    {
        using var response = await _server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/images/%01")]
    [InlineData("/culture/%1B")]
    [InlineData("/%7F")]
    public async Task Get_ControlCharacterInPath_400(string path)
    {
        var problem = await ApiTests.ProblemAsync(await _server.Client.GetAsync(path), HttpStatusCode.BadRequest);
        Assert.Contains("control character", problem.Detail, StringComparison.Ordinal);
    }

    // JSON bodies are small (a text, a path): one over ClipSearch:MaxJsonBytes is refused while it is read.
    [Theory]
    [InlineData("/api/search")]
    [InlineData("/api/model/load")]
    public async Task Post_JsonBodyOverTheJsonLimit_413(string route)
    {
        var text = new string('a', 5000);   // small enough to be sent whole before the server answers
        var problem = await ApiTests.ProblemAsync(await _server.Client.PostAsJsonAsync(route, new { text, path = text }), HttpStatusCode.RequestEntityTooLarge);
        Assert.StartsWith("The request body is over the server's limit: 4,096 bytes for JSON", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responses_CarryHeadersAgainstFramingAndSniffing()
    {
        using var response = await _server.Client.GetAsync("/api/model");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Cross-Origin-Resource-Policy").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    // A connection from another machine to a server without a token (it can only get one through a mistake in
    // binding): refused by the request itself, whatever was bound.
    [Fact]
    public async Task BrowserGuard_WithoutToken_RefusesConnectionsFromOtherMachines()
    {
        var guard = new BrowserGuard(_ => Task.CompletedTask, _server.Get<ServerAddresses>(), new ClipSearchOptions());
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = _server.Services };
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.168.1.50");
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("127.0.0.1");
        context.Response.Body = new MemoryStream();
        await guard.InvokeAsync(context);
        Assert.Equal(403, context.Response.StatusCode);

        var withToken = new BrowserGuard(_ => Task.CompletedTask, _server.Get<ServerAddresses>(), new ClipSearchOptions { Token = "t" });
        var passed = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = _server.Services };
        passed.Connection.RemoteIpAddress = IPAddress.Parse("192.168.1.50");
        passed.Request.Host = new Microsoft.AspNetCore.Http.HostString("127.0.0.1");
        await withToken.InvokeAsync(passed);
        Assert.Equal(200, passed.Response.StatusCode);
    }
}

/// <summary>What the server actually binds, from every configuration source, and the token on a real port.</summary>
public sealed class BindingTests
{
    // Kestrel:Endpoints (from the environment or an appsettings.json) override --urls: the rule holds on them too.
    [Theory]
    [InlineData("http://0.0.0.0:{port}", "http://0.0.0.0:{port}")]
    [InlineData("http://[::]:{port}", "http://[::]:{port}")]
    [InlineData("http://127.0.0.1:abc", "http://[::]:80")]
    [InlineData("http://example.com:{port}", "http://[::]:{port}")]
    public async Task Start_ConfiguredEndpointBeyondLoopbackWithoutToken_RefusedAndNothingListens(string url, string reported)
    {
        var port = Ports.Free();
        var p = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var port80WasOpen = Ports.Listening(80);   // "127.0.0.1:abc" is port 80 to Kestrel
        var e = await Assert.ThrowsAsync<ClipSearchException>(() => LoopbackServer.StartAsync(false, ("Kestrel:Endpoints:Evil:Url", url.Replace("{port}", p, StringComparison.Ordinal))));
        Assert.StartsWith($"Listening on {reported.Replace("{port}", p, StringComparison.Ordinal)} (not loopback) needs an access token", e.Message, StringComparison.Ordinal);
        Assert.False(Ports.Listening(port), $"port {port} is open");
        Assert.True(port80WasOpen || !Ports.Listening(80), "port 80 is open");
    }

    // A model loaded at start reads the folder rules before Kestrel has bound: they must still be those of the
    // addresses it then binds (every interface here), not "loopback" read too early.
    [Fact]
    public async Task Start_BeyondLoopbackWithAModelLoadedAtStart_RestrictsFoldersAndAnswersIpHosts()
    {
        var port = Ports.Free();
        await using var server = await LoopbackServer.StartAsync(true,
            ("Kestrel:Endpoints:Lan:Url", $"http://0.0.0.0:{port}"), ("ClipSearch:Token", "s3cret"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");

        var problem = await ApiTests.ProblemAsync(await client.PostAsJsonAsync("/api/model/load", new { path = "/etc" }), HttpStatusCode.Forbidden);
        Assert.Equal("Folder not allowed", problem.Title);
        using var byIp = new HttpRequestMessage(HttpMethod.Get, "/api/model");
        byIp.Headers.Host = $"192.0.2.2:{port}";   // the machine's LAN address, as a browser on another machine sends it
        using var response = await client.SendAsync(byIp);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(server.Get<ModelHost>().IsLoaded);
    }

    [Fact]
    public async Task Start_ConfiguredEndpointBeyondLoopbackWithToken_RequiresTheToken()
    {
        var port = Ports.Free();
        await using var server = await LoopbackServer.StartAsync(false,
            ("Kestrel:Endpoints:Lan:Url", $"http://0.0.0.0:{port}"), ("ClipSearch:Token", "s3cret"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using (var anonymous = await client.GetAsync("/api/model"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
        using (var ok = await client.GetAsync("/api/model"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Beyond loopback and without --allow-root, requests may not name folders on the server.
        var problem = await ApiTests.ProblemAsync(await client.PostAsJsonAsync("/api/model/load", new { path = TinyClip.ModelPath }), HttpStatusCode.Forbidden);
        Assert.Contains("--allow-root", problem.Detail, StringComparison.Ordinal);
        Assert.False(server.Get<ModelHost>().IsLoaded);

        // Any IP address names a server on every interface; the machine's own name too.
        using var byName = new HttpRequestMessage(HttpMethod.Get, "/api/model");
        byName.Headers.Host = Dns.GetHostName();
        using (var response = await client.SendAsync(byName))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    // Token in the query: the redirect that hides it goes to a path on this server, never to //evil.example/.
    [Theory]
    [InlineData("//evil.example/?token=s3cret", "/")]
    [InlineData("///evil.example/?token=s3cret", "/")]
    [InlineData("/%5Cevil.example?token=s3cret", "/%5Cevil.example")]
    [InlineData("/match?token=s3cret&x=1", "/match?x=1")]
    public async Task TokenInQuery_RedirectsOnlyToThisServer(string target, string expected)
    {
        await using var server = await LoopbackServer.StartAsync(false, ("ClipSearch:Token", "s3cret"));
        var response = await RawGetAsync(server.Uri, target);
        Assert.StartsWith("HTTP/1.1 302", response, StringComparison.Ordinal);
        Assert.Contains($"\r\nLocation: {expected}\r\n", response, StringComparison.Ordinal);
    }

    /// <summary>A GET with the request target exactly as given (HttpClient would read //host/ as another host).</summary>
    internal static async Task<string> RawGetAsync(Uri server, string target, string? host = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {host ?? server.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Theory]
    [InlineData("/health/../api/model")]
    [InlineData("/health/x")]
    [InlineData("/HEALTH/")]
    public async Task PathsNearHealth_NeedTheToken(string path)
    {
        await using var server = await LoopbackServer.StartAsync(false, ("ClipSearch:Token", "s3cret"));
        using var response = await server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
