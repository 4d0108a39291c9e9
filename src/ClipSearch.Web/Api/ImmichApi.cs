using System.Text.Json;
using System.Text.Json.Serialization;
using ClipSearch.Web.Security;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// Immich's machine-learning API, as Immich's server calls it (<c>server/src/repositories/machine-learning.repository.ts</c>
/// at immich-app/immich@028fab8; the answers as <c>machine-learning/immich_ml/main.py</c> at 0247011 gives them):
/// <c>GET /ping</c> → <c>pong</c>; <c>POST /predict</c> with multipart <c>entries</c> (JSON) and an <c>image</c> file or
/// a <c>text</c> field → <c>{"clip": "[…]"}</c>, the embedding as a JSON array in a string, with
/// <c>imageHeight</c>/<c>imageWidth</c> for an image. Smart search only: <c>ViT-B-32__openai</c> is the loaded model
/// when it has CLIP ViT-B/32's geometry; other models, facial recognition and OCR are refused (422) in words that
/// say what to turn off in Immich. Mapped only when enabled; answered without the token to the listed clients only
/// (<see cref="ClientGate"/>).
/// </summary>
public static class ImmichApi
{
    /// <summary>Immich's name for OpenAI's CLIP ViT-B/32, the model ClipSearch serves.</summary>
    public const string ClipModelName = "ViT-B-32__openai";

    private const string Expected = "fields 'entries' (JSON) and 'image' (a file) or 'text'";

    /// <summary>Maps <c>GET /ping</c> and <c>POST /predict</c>, answered to <paramref name="clients"/> only, without the token.</summary>
    public static IEndpointRouteBuilder MapImmichApi(this IEndpointRouteBuilder app, ClientNetworks clients)
    {
        var gate = new TokenFreeClients(clients, "--immich-clients (ClipSearch:Immich:Clients)");
        app.MapGet("/ping", Ping).WithTags("Immich").WithMetadata(gate)
            .WithSummary("Immich's health check: 'pong'.");
        app.MapPost("/predict", PredictAsync).WithTags("Immich").WithMetadata(gate)
            .WithSummary("Immich's smart-search embedding: multipart entries {\"clip\": {\"visual\" | \"textual\": {\"modelName\": \"ViT-B-32__openai\"}}} with image or text → {\"clip\": \"[…]\"}.")
            .Accepts<ImmichPredictForm>("multipart/form-data")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    // As immich_ml answers it: text/plain.
    private static ContentHttpResult Ping() => TypedResults.Text("pong", "text/plain", System.Text.Encoding.UTF8);

    private static async Task<Results<Ok<ImmichPrediction>, ProblemHttpResult>> PredictAsync(HttpRequest request, ClipService clip, ImageDecoding decoding, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        var form = await FormInput.ReadAsync(request, Expected, cancellationToken).ConfigureAwait(false);
        var visual = ReadEntries(form["entries"].ToString());
        var uploads = await FormInput.UploadsAsync(form, "image", options.Value, cancellationToken).ConfigureAwait(false);
        var text = form.TryGetValue("text", out var texts) ? texts.ToString() : null;
        if (uploads.Count == 0 && text is null)
        {
            throw form.ContainsKey("assetId")
                ? Unsupported("Immich sent an asset id instead of the image: ClipSearch cannot read Immich's storage and needs the image itself. Choose ViT-B-32__openai in Immich's smart search settings.")
                : new ApiProblemException(StatusCodes.Status400BadRequest, $"Either image or text must be provided: send {Expected}.");
        }

        if (visual)
        {
            if (uploads.Count != 1)
            {
                throw new ApiProblemException(StatusCodes.Status400BadRequest, uploads.Count == 0
                    ? "clip.visual embeds an image: send it in the field 'image'."
                    : $"Send one image in the field 'image', not {uploads.Count}.");
            }

            var (width, height) = decoding.UprightSize(uploads[0]);
            var image = await clip.EmbedInputsAsync(uploads, [], CheckVitB32, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(new ImmichPrediction(JsonSerializer.Serialize(image.Images[0]), height, width));
        }

        if (text is null)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "clip.textual embeds a text: send it in the field 'text'.");
        }

        var embedded = await clip.EmbedInputsAsync([], [text], CheckVitB32, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new ImmichPrediction(JsonSerializer.Serialize(embedded.Texts[0]), null, null));
    }

    /// <summary>
    /// Whether <paramref name="entries"/> asks for an image's embedding (else a text's); anything else Immich can
    /// ask for is refused, naming it.
    /// </summary>
    private static bool ReadEntries(string entries)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(entries, new JsonDocumentOptions { MaxDepth = 8 });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Invalid($"'entries' is not JSON ({e.Message}).");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("'entries' must be a JSON object such as {\"clip\": {\"textual\": {\"modelName\": \"ViT-B-32__openai\"}}}.");
        }

        bool? visual = null;
        foreach (var task in root.EnumerateObject())
        {
            switch (task.Name)
            {
                case "clip":
                    visual = ReadClip(task.Value);
                    break;
                case "facial-recognition":
                    throw Unsupported("ClipSearch does not do facial recognition (entries asked for 'facial-recognition'): turn Facial Recognition off in Immich (Administration → Settings → Machine Learning Settings), or point it at an Immich machine-learning server for it.");
                case "ocr":
                    throw Unsupported("ClipSearch does not do OCR (entries asked for 'ocr'): turn OCR off in Immich (Administration → Settings → Machine Learning Settings), or point it at an Immich machine-learning server for it.");
                default:
                    throw Unsupported($"ClipSearch does not do the task '{task.Name}' (it serves smart search, the task 'clip', only): turn that feature off in Immich's machine learning settings.");
            }
        }

        return visual ?? throw Invalid("'entries' names no task: send {\"clip\": {\"visual\" | \"textual\": {\"modelName\": \"ViT-B-32__openai\"}}}.");
    }

    private static bool ReadClip(JsonElement clip)
    {
        if (clip.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("'clip' must be an object such as {\"textual\": {\"modelName\": \"ViT-B-32__openai\"}}.");
        }

        var types = clip.EnumerateObject().ToList();
        if (types.Count != 1 || types[0].Name is not ("visual" or "textual"))
        {
            throw Invalid($"'clip' must hold one of 'visual' (an image) and 'textual' (a text), not {(types.Count == 0 ? "nothing" : string.Join(" and ", types.Select(t => $"'{t.Name}'")))}.");
        }

        var entry = types[0].Value;
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("modelName", out var name) || name.ValueKind != JsonValueKind.String)
        {
            throw Invalid($"'clip.{types[0].Name}' needs a 'modelName' string.");
        }

        var model = name.GetString()!;
        // As Immich's server cleans a name: the part after the last '/', ':' read as '_'.
        var clean = model[(model.LastIndexOf('/') + 1)..].Replace(':', '_');
        if (!string.Equals(clean, ClipModelName, StringComparison.Ordinal))
        {
            throw Unsupported($"ClipSearch serves CLIP ViT-B/32 only, which Immich calls '{ClipModelName}'; Immich asked for '{model}'. Choose {ClipModelName} as the smart search model in Immich (Administration → Settings → Machine Learning Settings → Smart Search), then run the Smart Search job for all assets.");
        }

        return types[0].Name == "visual";
    }

    // ViT-B-32__openai is the loaded model only when it is shaped as ViT-B/32: other vectors would not match Immich's index.
    private static void CheckVitB32(LoadedModel loaded)
    {
        if (!loaded.Model.Config.HasVitB32Geometry)
        {
            throw Unsupported($"Immich asked for {ClipModelName}, but the loaded model ({Path.GetFileName(loaded.Info.Directory)}: {loaded.Model.Config.Geometry}) is not CLIP ViT-B/32 (12 + 12 layers, widths 512/768, patch 32, 224 px, 512-d): load a ViT-B/32 model.");
        }
    }

    private static ApiProblemException Invalid(string message) => new(StatusCodes.Status422UnprocessableEntity, $"Invalid request format: {message}");

    private static ApiProblemException Unsupported(string message) => new(StatusCodes.Status422UnprocessableEntity, message);
}

/// <summary>The multipart fields of <c>POST /predict</c> (for the OpenAPI description).</summary>
/// <param name="Entries">JSON: <c>{"clip": {"visual": {"modelName": "ViT-B-32__openai"}}}</c> or <c>{"clip": {"textual": {"modelName": "ViT-B-32__openai", "options": {"language": "en"}}}}</c>.</param>
/// <param name="Image">The image (for <c>visual</c>).</param>
/// <param name="Text">The text (for <c>textual</c>).</param>
public sealed record ImmichPredictForm(string Entries, IFormFile? Image, string? Text);

/// <summary>What <c>POST /predict</c> answers, as Immich reads it.</summary>
/// <param name="Clip">The unit vector as a JSON array, in a string (Immich stores it as it comes).</param>
/// <param name="ImageHeight">The image's height, upright (after its EXIF orientation); images only.</param>
/// <param name="ImageWidth">The image's width, upright; images only.</param>
public sealed record ImmichPrediction(
    [property: JsonPropertyName("clip")] string Clip,
    [property: JsonPropertyName("imageHeight"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ImageHeight,
    [property: JsonPropertyName("imageWidth"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ImageWidth);
