using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClipSearch.Web.Api;

/// <summary>
/// The model:
/// <c>GET /api/model</c> (status and description, with the idle warming of the presets),
/// <c>POST /api/model/load</c> <c>{path, variant, threads}</c>,
/// <c>POST /api/model/unload</c>,
/// <c>POST /api/model/download</c> <c>{repo, revision, variant}</c> (starts a background download from the Hub, then loads it),
/// <c>GET /api/model/download</c> (its state and progress),
/// <c>DELETE /api/model/download</c> (cancels it).
/// </summary>
public static class ModelApi
{
    /// <summary>Maps the model routes.</summary>
    public static IEndpointRouteBuilder MapModelApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/model").WithTags("Model");
        api.MapGet("/", GetStatus).WithSummary("The model host's state and, when loaded, everything `clipsearch info` shows.");
        api.MapPost("/load", LoadAsync).WithSummary("Loads a model folder (Hugging Face / Xenova layout); replaces the current model.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/unload", Unload).WithSummary("Unloads the model.");
        api.MapPost("/download", StartDownload)
            .WithSummary("Starts downloading a model from the Hugging Face Hub (default Xenova/clip-vit-base-patch32, main, fp32) into the model store; the model is loaded when the files are in place. One download at a time.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/download", GetDownload).WithSummary("The download's state: idle, running (stage, file, bytes, rate, fraction), completed, failed (with the reason) or cancelled.");
        api.MapDelete("/download", CancelDownload).WithSummary("Cancels the running download (partial files are kept and resumed by the next one).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static Ok<ModelStatus> GetStatus(ModelHost host, PresetWarmer warmer) => TypedResults.Ok(host.Status with { PresetWarming = warmer.Status });

    private static async Task<Results<Ok<ModelStatus>, ProblemHttpResult>> LoadAsync(LoadModelRequest? request, ModelHost host, CancellationToken cancellationToken)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Path))
        {
            return TypedResults.Problem("Give the model folder in \"path\" (the folder with config.json and onnx/).", statusCode: StatusCodes.Status400BadRequest, title: "Bad input");
        }

        return TypedResults.Ok(await host.LoadAsync(request.Path, request.Variant, request.Threads, cancellationToken).ConfigureAwait(false));
    }

    private static Ok<ModelStatus> Unload(ModelHost host) => TypedResults.Ok(host.Unload());

    // One already running: DownloadInProgressException, which ProblemMapping answers with 409.
    private static Accepted<ModelDownloadStatus> StartDownload(ModelDownloadRequest? request, ModelDownloads downloads) =>
        TypedResults.Accepted("/api/model/download", downloads.Start(request ?? new ModelDownloadRequest()));

    private static Ok<ModelDownloadStatus> GetDownload(ModelDownloads downloads) => TypedResults.Ok(downloads.Status);

    private static Results<Ok<ModelDownloadStatus>, ProblemHttpResult> CancelDownload(ModelDownloads downloads) =>
        downloads.Cancel()
            ? TypedResults.Ok(downloads.Status)
            : TypedResults.Problem("No download is running.", statusCode: StatusCodes.Status409Conflict, title: "Nothing to cancel");
}

/// <summary>What to load.</summary>
/// <param name="Path">The model folder on the server.</param>
/// <param name="Variant">fp32 (default), quantized or fp16.</param>
/// <param name="Threads">ONNX Runtime threads (default: the server's setting).</param>
public sealed record LoadModelRequest(string Path, string? Variant = null, int? Threads = null);
