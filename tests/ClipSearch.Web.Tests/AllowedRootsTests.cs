using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;

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

    // Outside every root the answer is the same whether the folder exists or not, and so is the answer for a link
    // inside a root that leads nowhere: nothing can be learnt about the rest of the file system.
    [Fact]
    public async Task LoadModel_MissingOutsideTheRootOrBehindALink_SameAnswerAsExisting()
    {
        File.CreateSymbolicLink(_root.File("dangling"), _outside.File("nothing"));
        var existing = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = _outside.File("tiny") }), HttpStatusCode.Forbidden);
        foreach (var path in new[] { _outside.File("nothing"), _root.File("dangling"), _root.File("dangling", "deeper") })
        {
            var refused = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path }), HttpStatusCode.Forbidden);
            Assert.Equal(existing.Title, refused.Title);
            Assert.Equal(existing.Detail!.Replace(_outside.File("tiny"), path, StringComparison.Ordinal), refused.Detail);
        }

        var underRoot = await ApiTests.ProblemAsync(await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("nothing") }), HttpStatusCode.BadRequest);
        Assert.Equal($"{_root.File("nothing")} does not exist on the server.", underRoot.Detail);
    }

    // A library folder's photo swapped for a link out of the roots after it was indexed is not served.
    [Fact]
    public async Task GetImage_PhotoReplacedByALinkOutOfTheRoots_404()
    {
        using (var model = await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("models", "tiny") }))
        {
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }

        using (var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _root.File("photos") }))
        {
            Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        }

        await _server.Services.GetRequiredService<Services.LibraryHost>().WaitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        using var search = await _client.PostAsJsonAsync("/api/search", new { text = "a horse" });
        var hit = (await search.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("results")[0];
        using (var before = await _client.GetAsync(hit.GetProperty("imageUrl").GetString()))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        File.Delete(_root.File("photos", "horse.png"));
        File.CreateSymbolicLink(_root.File("photos", "horse.png"), _outside.File("private", "chelsea.png"));
        foreach (var url in new[] { hit.GetProperty("imageUrl").GetString(), hit.GetProperty("thumbnailUrl").GetString() })
        {
            await ApiTests.ProblemAsync(await _client.GetAsync(url), HttpStatusCode.NotFound);
        }
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

    [Fact]
    public async Task Index_LinksInsideTheFolderToOutsideTheRoots_AreNotFollowed()
    {
        using (var model = await _client.PostAsJsonAsync("/api/model/load", new { path = _root.File("models", "tiny") }))
        {
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }

        File.CreateSymbolicLink(_root.File("photos", "private-photo.png"), _outside.File("private", "chelsea.png"));
        File.CreateSymbolicLink(_root.File("photos", "private-folder"), _outside.File("private"));
        using (var added = await _client.PostAsJsonAsync("/api/library/folders", new { path = _root.File("photos") }))
        {
            Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        }

        await _server.Services.GetRequiredService<Services.LibraryHost>().WaitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var library = await _client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/library");
        Assert.Equal(1, library.GetProperty("stats").GetProperty("indexed").GetInt32());   // horse.png only
        var errors = await _client.GetStringAsync("/api/library/errors");
        Assert.Contains("private-photo.png", errors, StringComparison.Ordinal);
        Assert.Contains("private-folder", errors, StringComparison.Ordinal);
        Assert.Contains("outside the folders this server may read", errors, StringComparison.Ordinal);
        using var search = await _client.PostAsJsonAsync("/api/search", new { text = "a cat", k = 10 });
        Assert.Single((await search.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("results").EnumerateArray());
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
