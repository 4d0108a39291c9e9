using ClipSearch.Library.Search;
using ClipSearch.Library.Storage;
using ClipSearch.Library.Watching;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipSearch.Web.Api;

/// <summary>
/// The photo library the server was started with (<c>clipsearch serve --library …</c>):
/// <c>GET /api/library</c> (counts, folders, indexing with progress, the watcher's state),
/// <c>POST /api/library/folders {path}</c> (add a folder and index it in the background; 409 while a run is going),
/// <c>DELETE /api/library/folders?path=…</c>,
/// <c>POST /api/library/index/stop</c>,
/// <c>GET /api/library/errors</c> (files that could not be indexed).
/// </summary>
public static class LibraryApi
{
    /// <summary>Maps the library routes.</summary>
    public static IEndpointRouteBuilder MapLibraryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/library").WithTags("Library").DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/", GetAsync).WithSummary("Counts, folders, and the indexing run with its progress.");
        api.MapPost("/folders", AddFolderAsync).WithSummary("Adds a folder (a path on the server) and indexes it in the background.")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/folders", RemoveFolderAsync).WithSummary("Removes a folder and its images from the library (the files stay).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/index/stop", Stop).WithSummary("Stops the indexing run after its batch in flight.");
        api.MapGet("/errors", ErrorsAsync).WithSummary("Files that could not be indexed, with the reason.");
        return app;
    }

    private static async Task<Ok<LibraryResponse>> GetAsync(LibraryHost host, CancellationToken cancellationToken)
    {
        var library = host.Required;
        var stats = await library.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        var method = await library.DescribeSearchAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new LibraryResponse(stats, host.State, Localization.SearchMethodWords.English(method), method, host.Watch));
    }

    private static async Task<Accepted<IndexingState>> AddFolderAsync(FolderRequest body, LibraryHost host, CancellationToken cancellationToken) =>
        TypedResults.Accepted("/api/library", await host.StartIndexingAsync(body?.Path, cancellationToken).ConfigureAwait(false));

    private static async Task<NoContent> RemoveFolderAsync(string? path, LibraryHost host, CancellationToken cancellationToken)
    {
        await host.RemoveFolderAsync(path, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    private static Ok<IndexingState> Stop(LibraryHost host)
    {
        _ = host.Required;
        return TypedResults.Ok(host.Stop());
    }

    private static async Task<Ok<IReadOnlyList<FileError>>> ErrorsAsync(LibraryHost host, CancellationToken cancellationToken) =>
        TypedResults.Ok(await host.Required.GetErrorsAsync(cancellationToken).ConfigureAwait(false));
}

/// <summary>A folder to add.</summary>
/// <param name="Path">Its absolute path on the server.</param>
public sealed record FolderRequest(string? Path);

/// <summary>The library.</summary>
/// <param name="Stats">Counts, folders, model, size, and what the walks of the folders passed over (<c>skipped</c>).</param>
/// <param name="Indexing">The indexing run (running or last).</param>
/// <param name="Search">How searches find their results, in English (<paramref name="SearchMethod"/> worded).</param>
/// <param name="SearchMethod">How searches find their results, as data: exact, the HNSW graph or pgvector, with the measured recall.</param>
/// <param name="Watch">
/// The watcher keeping the folders current (status <c>idle</c>, <c>watching</c>, <c>rescanning</c>, <c>indexing</c> with
/// <c>indexing</c> paths, or <c>stopped</c>; the last change seen; the last error), or null when the folders are not
/// watched (<c>--no-watch</c>, a read-only library).
/// </param>
public sealed record LibraryResponse(LibraryStats Stats, IndexingState Indexing, string Search, SearchMethod SearchMethod, WatchState? Watch);
