using System.Net;
using System.Net.Http.Json;

namespace ClipSearch.Web.Tests;

/// <summary>
/// With --allow-root, requests may name only folders under it (model folders and library folders alike), and a
/// symbolic link inside a root does not lead out of it.
/// </summary>
public sealed class AllowedRootsTests : IDisposable
{
    private readonly TempFolder _root = new();
    private readonly TempFolder _outside = new();
    private readonly TempFolder _scratch = new();
    private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _server;
    private readonly HttpClient _client;

    public AllowedRootsTests()
    {
        CopyModel(_root.File("models", "tiny"));
        CopyModel(_outside.File("tiny"));
        Directory.CreateDirectory(_root.File("photos"));
        File.Copy(TinyClip.Image("horse.png"), _root.File("photos", "horse.png"));
        Directory.CreateDirectory(_outside.File("private"));
        File.Copy(TinyClip.Image("chelsea.png"), _outside.File("private", "chelsea.png"));
        File.CreateSymbolicLink(_root.File("link-to-model"), _outside.File("tiny"));
        File.CreateSymbolicLink(_root.File("link-to-private"), _outside.File("private"));
        _server = TinyClip.Server(false, ("ClipSearch:AllowedRoots:0", _root.Path), ("ClipSearch:Library", _scratch.File("library.db")));
        _client = _server.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _root.Dispose();
        _outside.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task LoadModel_UnderTheRoot_Loads()
    {
        using var response = await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("models", "tiny") });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task LoadModel_OutsideTheRootOrThroughALinkOutOfIt_403()
    {
        foreach (var path in new[] { _outside.File("tiny"), _root.File("link-to-model"), _root.File("models", "..", "..", Path.GetFileName(_outside.Path), "tiny"), "/etc" })
        {
            var problem = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path }), HttpStatusCode.Forbidden);
            Assert.Contains("--allow-root", problem.Detail, StringComparison.Ordinal);
        }

        Assert.Equal("empty", (await _client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/model")).GetProperty("state").GetString());
    }

    // Outside every root the answer is the same whether the folder exists or not: nothing can be learnt about it.
    [Fact]
    public async Task LoadModel_MissingOutsideTheRoot_SameAnswerAsExisting()
    {
        var missing = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = _outside.File("nothing") }), HttpStatusCode.Forbidden);
        Assert.Contains(_outside.File("nothing"), missing.Detail, StringComparison.Ordinal);
        var underRoot = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("nothing") }), HttpStatusCode.BadRequest);
        Assert.Contains("does not exist", underRoot.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFolder_OutsideTheRootOrThroughALink_403_UnderIt_Indexes()
    {
        using (var model = await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("models", "tiny") }))
        {
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }

        foreach (var path in new[] { _outside.File("private"), _root.File("link-to-private") })
        {
            await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/library/folders", new { path }), HttpStatusCode.Forbidden);
        }

        using var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _root.File("photos") });
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
    }

    private static void CopyModel(string target)
    {
        foreach (var file in Directory.EnumerateFiles(TinyClip.ModelPath, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(TinyClip.ModelPath, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
    }
}
