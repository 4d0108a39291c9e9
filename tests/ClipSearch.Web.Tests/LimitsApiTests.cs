using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;

namespace ClipSearch.Web.Tests;

/// <summary>The web applies the limits every front end applies (ClipSearch.Core.Limits), with the same message.</summary>
public sealed class LimitsApiTests
{
    [Fact]
    public async Task LoadModel_ThreadsOverTheLimit_Is400WithTheMessageTheCommandLineGives()
    {
        using var server = TinyClip.Server(false);
        using var client = server.CreateClient();

        // Before: "100000 threads is too many: use at most 256.", while the command line started 100000.
        using var response = await client.PostAsJsonAsync("/api/model/load", new { path = TinyClip.ModelPath, threads = 100_000 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("The number of threads must be between 1 and 256 (got 100000).", problem!.Detail);
    }
}
