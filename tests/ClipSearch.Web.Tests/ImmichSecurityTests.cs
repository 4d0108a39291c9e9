using System.Net;
using System.Text;
using ClipSearch.Core;
using ClipSearch.Web.Security;

namespace ClipSearch.Web.Tests;

/// <summary>
/// The Immich routes answer without the token, so only the listed client addresses reach them, on a real loopback
/// port (127.0.0.2 is a real remote address there); and every other check still holds, for them and for every other
/// route: the token, the Host check, cross-site requests, the listening rules.
/// </summary>
public sealed class ImmichSecurityTests
{
    private static readonly IPAddress Listed = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task ImmichRoutes_OnlyListedClients_WithoutTheToken_OtherRoutesStillNeedIt()
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:Token", "s3cret"), ("ClipSearch:Immich:Enabled", "true"), ("ClipSearch:Immich:Clients:0", "127.0.0.2/32"));
        var text = ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat");

        // From 127.0.0.1, not listed: refused, however the path is written.
        foreach (var path in new[] { "/ping", "/PING", "/ping/" })
        {
            var (status, _, body) = await ImmichRequests.SendAsync(server.Uri, "GET", path);
            Assert.Equal(403, status);
            Assert.Contains("127.0.0.2/32", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        }

        Assert.Equal(403, (await ImmichRequests.SendAsync(server.Uri, "POST", "/predict", text)).Status);

        // From 127.0.0.2, listed: answered without the token (tiny-clip is not ViT-B/32: the 422 comes from the route itself).
        var ping = await ImmichRequests.SendAsync(server.Uri, "GET", "/ping", from: Listed);
        Assert.Equal((200, "pong"), (ping.Status, Encoding.UTF8.GetString(ping.Body)));
        Assert.Equal(422, (await ImmichRequests.SendAsync(server.Uri, "POST", "/predict", text, Listed)).Status);

        // Every other route still needs the token, from the listed client too.
        foreach (var (method, path) in new[] { ("GET", "/api/model"), ("GET", "/v1/models"), ("GET", "/"), ("GET", "/openapi/v1.json"), ("POST", "/api/model/unload") })
        {
            Assert.Equal(401, (await ImmichRequests.SendAsync(server.Uri, method, path, from: Listed)).Status);
        }

        Assert.Equal(401, (await ImmichRequests.SendAsync(server.Uri, "POST", "/api/embed", ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"), Listed)).Status);
        Assert.True(server.Get<Services.ModelHost>().IsLoaded);
    }

    // Without a token the server is on loopback only, and the default list is loopback: Immich on this machine.
    [Fact]
    public async Task ImmichRoutes_DefaultList_ThisMachineOnly()
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:Immich:Enabled", "true"));
        Assert.Equal(200, (await ImmichRequests.SendAsync(server.Uri, "GET", "/ping")).Status);
        Assert.Equal(200, (await ImmichRequests.SendAsync(server.Uri, "GET", "/ping", from: Listed)).Status);   // 127.0.0.0/8
    }

    // A multipart POST is a "simple" request any page can send: /predict is refused from other sites as every route is.
    [Theory]
    [InlineData("Origin", "http://attacker.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task Predict_FromAnotherSite_Refused(string header, string value)
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:Immich:Enabled", "true"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = ImmichRequests.Content(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat")) };
        request.Headers.TryAddWithoutValidation(header, value);
        var problem = await ApiTests.ProblemAsync(await server.Client.SendAsync(request), HttpStatusCode.Forbidden);
        Assert.Equal("Cross-site request refused", problem.Title);
    }

    // DNS rebinding: a page whose name now resolves to this machine sends its own name; the listed client is this machine.
    [Fact]
    public async Task Predict_ForeignHost_Refused()
    {
        await using var server = await LoopbackServer.StartAsync(true, ("ClipSearch:Immich:Enabled", "true"));
        foreach (var path in new[] { "/ping", "/predict" })
        {
            using var request = new HttpRequestMessage(path == "/ping" ? HttpMethod.Get : HttpMethod.Post, path);
            request.Headers.Host = $"attacker.example:{server.Uri.Port}";
            if (path == "/predict")
            {
                request.Content = ImmichRequests.Content(ImmichRequests.TextBody(ImmichRequests.TextEntries(), "a cat"));
            }

            var problem = await ApiTests.ProblemAsync(await server.Client.SendAsync(request), HttpStatusCode.Forbidden);
            Assert.Equal("Unknown host", problem.Title);
        }
    }

    // The Immich routes change nothing about where the server may listen: beyond loopback still needs a token.
    [Fact]
    public void Build_ImmichBeyondLoopbackWithoutToken_Refused()
    {
        var saved = Environment.GetEnvironmentVariable(ClipSearchOptions.TokenVariable);
        Environment.SetEnvironmentVariable(ClipSearchOptions.TokenVariable, null);
        try
        {
            var e = Assert.Throws<ClipSearchException>(() => WebApp.Build([], new Dictionary<string, string?>
            {
                ["urls"] = "http://0.0.0.0:0",
                ["ClipSearch:Immich:Enabled"] = "true",
                ["ClipSearch:Immich:Clients:0"] = "0.0.0.0/0",
            }));
            Assert.Contains("needs an access token", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ClipSearchOptions.TokenVariable, saved);
        }
    }

    [Theory]
    [InlineData("172.16.0.0/33", "prefix length '33'")]
    [InlineData("172.16.5.0/12", "did you mean 172.16.0.0/12")]
    [InlineData("immich.lan", "not an IP address or a network")]
    [InlineData("10.1/8", "not an IP address or a network")]
    public void Build_BadImmichClients_OneLineErrorNamingTheEntry(string entry, string expected)
    {
        var e = Assert.Throws<ClipSearchException>(() => WebApp.Build([], new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ClipSearch:Immich:Enabled"] = "true",
            ["ClipSearch:Immich:Clients:0"] = $"127.0.0.1/32,{entry}",
        }));
        Assert.StartsWith($"--immich-clients (ClipSearch:Immich:Clients): '{entry}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("172.17.0.2", true)]
    [InlineData("::ffff:172.17.0.2", true)]      // an IPv4 client on a dual-stack socket
    [InlineData("172.32.0.1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", false)]
    [InlineData("192.168.1.20", true)]
    [InlineData("192.168.1.21", false)]
    [InlineData("fd00::5", true)]
    public void ClientNetworks_Contains_ByNetworkAndAddress(string address, bool expected)
    {
        var networks = ClientNetworks.Parse(["127.0.0.1/32, 172.16.0.0/12", "192.168.1.20", "fd00::/8"], "test");
        Assert.Equal(expected, networks.Contains(IPAddress.Parse(address)));
        Assert.Equal("127.0.0.1/32, 172.16.0.0/12, 192.168.1.20/32, fd00::/8", networks.ToString());
    }

    [Fact]
    public void ClientNetworks_NoAddress_IsThisMachine() =>
        Assert.Equal((true, false), (ClientNetworks.Parse(ImmichOptions.LoopbackClients, "test").Contains(null), ClientNetworks.Parse(["10.0.0.0/8"], "test").Contains(null)));
}
