using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using ClipSearch.Core.Model;
using ClipSearch.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Api;

/// <summary>
/// OpenAI's embeddings API, for the tools that speak it (the official clients, LangChain, LlamaIndex…):
/// <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>, <c>POST /v1/embeddings</c> (texts, and images as Infinity's
/// <c>"modality": "image"</c> and Jina's <c>{"image": …}</c> items send them). The same token as the rest of the API
/// (<c>Authorization: Bearer</c>, the client's API key); errors in OpenAI's shape (<see cref="OpenAiErrors"/>). The
/// vectors are <c>/api/embed</c>'s: the same decoding, the same batcher.
/// </summary>
public static class OpenAiApi
{
    /// <summary>Maps the OpenAI-compatible routes.</summary>
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup(OpenAiErrors.Prefix).WithTags("OpenAI-compatible");
        v1.MapGet("/models", Models)
            .WithSummary("The loaded model (none when no model is loaded), under its id: the Hub repository it came from, else its folder's name.");
        v1.MapGet("/models/{**id}", Model)
            .WithSummary("The loaded model when id names it; else 404 model_not_found.")
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);
        v1.MapPost("/embeddings", EmbeddingsAsync)
            .WithSummary("OpenAI-style embeddings of texts and images (data: URLs): {model, input, encoding_format, modality}.")
            .WithMetadata(ImagesInJson.Instance)
            .Accepts<EmbeddingsRequest>("application/json")
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest).Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound).Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        // Any other path under /v1 (a chat completion, say): OpenAI's 404, naming what there is.
        v1.MapFallback("{**path}", NoSuchRoute).ExcludeFromDescription();
        return app;
    }

    // What no route takes: also a body that is not JSON for /v1/embeddings (its route matches JSON only).
    private static Results<Ok, ProblemHttpResult> NoSuchRoute(HttpRequest request) =>
        throw (HttpMethods.IsPost(request.Method) && string.Equals(request.Path.Value?.TrimEnd('/'), $"{OpenAiErrors.Prefix}/embeddings", StringComparison.OrdinalIgnoreCase)
            ? new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Send the request as JSON (Content-Type: application/json): {\"model\": …, \"input\": …}.")
            : new ApiProblemException(StatusCodes.Status404NotFound,
                $"There is no {request.Method} {request.Path} here: ClipSearch's OpenAI-compatible API has GET /v1/models and POST /v1/embeddings."));

    private static Ok<OpenAiModelList> Models(ModelHost host, ModelNames names) =>
        TypedResults.Ok(new OpenAiModelList("list", host.Info is { } info ? [Describe(info, names)] : []));

    private static Results<Ok<OpenAiModel>, ProblemHttpResult> Model(string id, ModelHost host, ModelNames names)
    {
        var info = host.Info;
        return info is not null && names.Names(info, id)
            ? TypedResults.Ok(Describe(info, names))
            : throw NotFound(id, info, names);
    }

    private static async Task<Results<Ok<EmbeddingsResponse>, ProblemHttpResult>> EmbeddingsAsync(HttpRequest request, ClipService clip, ModelHost host, ModelNames names,
        RemoteImages remote, UploadBudget budget, IOptions<ClipSearchOptions> options, CancellationToken cancellationToken)
    {
        // A body of images: held in the upload budget as an upload's bytes are (the document, then each image decoded once).
        await budget.MeterAsync(request.HttpContext, cancellationToken).ConfigureAwait(false);
        using var document = await ParseAsync(request, options.Value.MaxRequestBytes, cancellationToken).ConfigureAwait(false);
        var body = EmbeddingsBody.Read(document.RootElement, options.Value);
        // Before anything is decoded: a request for another model is refused at once.
        CheckModel(host.Info ?? throw new ModelNotLoadedException(), body, names);

        var uploads = new List<Upload>();
        var texts = new List<string>();
        foreach (var input in body.Inputs)
        {
            if (input.Text is { } text)
            {
                texts.Add(text);
                continue;
            }

            var name = $"input[{input.Index}]";
            var (bytes, url) = ImageReferences.Read(input.Image!.Value, name, options.Value.MaxImageBytes);
            uploads.Add(bytes is not null ? new Upload(name, bytes) : await remote.FetchAsync(url!, name, request.HttpContext, cancellationToken).ConfigureAwait(false));
        }

        var embedded = await clip.EmbedInputsAsync(uploads, texts, loaded => CheckModel(loaded.Info, body, names), cancellationToken).ConfigureAwait(false);
        var data = new EmbeddingData[body.Inputs.Count];
        int image = 0, textIndex = 0;
        foreach (var input in body.Inputs)
        {
            var vector = input.Text is null ? embedded.Images[image++] : embedded.Texts[textIndex++];
            data[input.Index] = new EmbeddingData("embedding", input.Index, body.Encoding == EmbeddingEncoding.Base64 ? Base64(vector) : vector);
        }

        var tokens = embedded.TextTokens.Sum();
        return TypedResults.Ok(new EmbeddingsResponse("list", data, names.IdOf(embedded.Model), new EmbeddingsUsage(tokens, tokens)));
    }

    // The document over the body's own bytes: with a Content-Length within the request limit (and so reserved in the
    // upload budget), read into an array of that size (a stream is parsed through buffers that grow by doubling), so
    // that the body is held once. A larger one is refused by the server as it is read.
    private static async Task<JsonDocument> ParseAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        var options = new JsonDocumentOptions { MaxDepth = 16 };
        try
        {
            if (request.ContentLength is { } length && length <= maxBytes && length <= Array.MaxLength)
            {
                var body = new byte[length];
                await request.Body.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
                return JsonDocument.Parse(body, options);
            }

            return await JsonDocument.ParseAsync(request.Body, options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, $"The body ended before its Content-Length ({e.Message}).");
        }
    }

    // The model asked for must be the one loaded, and the vectors its length.
    private static void CheckModel(ModelInfo info, EmbeddingsBody body, ModelNames names)
    {
        if (!names.Names(info, body.Model))
        {
            throw NotFound(body.Model, info, names);
        }

        if (body.Dimensions is { } dimensions && dimensions != info.ProjectionDim)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest,
                $"'dimensions' is {dimensions}, but {names.IdOf(info)} makes {info.ProjectionDim}-dimensional embeddings only (leave 'dimensions' out).", "dimensions");
        }
    }

    private static ApiProblemException NotFound(string model, ModelInfo? loaded, ModelNames names) => new(StatusCodes.Status404NotFound,
        loaded is null
            ? $"The model '{model}' does not exist: no model is loaded (load one on the Model tab or with POST /api/model/load)."
            : $"The model '{model}' does not exist: this server serves '{names.IdOf(loaded)}' (GET /v1/models).",
        "model", "model_not_found");

    private static OpenAiModel Describe(ModelInfo info, ModelNames names)
    {
        var id = names.IdOf(info);
        var created = File.GetLastWriteTimeUtc(Path.Combine(info.Directory, "config.json"));
        var owner = id.Contains('/', StringComparison.Ordinal) ? id[..id.IndexOf('/', StringComparison.Ordinal)] : "clipsearch";
        return new OpenAiModel(id, "model", new DateTimeOffset(created).ToUnixTimeSeconds(), owner);
    }

    // OpenAI's base64: the float32 values, little-endian, one after another.
    private static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }
}

/// <summary>The body of <c>POST /v1/embeddings</c> (for the OpenAPI description; read by <see cref="EmbeddingsBody"/>).</summary>
/// <param name="Model">The model's id, as <c>GET /v1/models</c> lists it.</param>
/// <param name="Input">A string, an array of strings, or an array of <c>{"text": …}</c> and <c>{"image": "data:image/…;base64,…"}</c> objects (Jina's); with <paramref name="Modality"/> <c>image</c>, strings are images (Infinity's).</param>
/// <param name="EncodingFormat"><c>float</c> (default) or <c>base64</c> (little-endian float32).</param>
/// <param name="Modality"><c>text</c> (default) or <c>image</c>.</param>
/// <param name="Dimensions">The vector length; only the model's own (512 for ViT-B/32) is accepted.</param>
public sealed record EmbeddingsRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input")] JsonElement Input,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat,
    [property: JsonPropertyName("modality")] string? Modality,
    [property: JsonPropertyName("dimensions")] int? Dimensions);

/// <summary>The embeddings, in input order.</summary>
/// <param name="Object">Always <c>list</c>.</param>
/// <param name="Data">One per input.</param>
/// <param name="Model">The model that made them.</param>
/// <param name="Usage">Tokens read.</param>
public sealed record EmbeddingsResponse(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<EmbeddingData> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] EmbeddingsUsage Usage);

/// <summary>One embedding.</summary>
/// <param name="Object">Always <c>embedding</c>.</param>
/// <param name="Index">Its input's place in <c>input</c>.</param>
/// <param name="Embedding">The unit vector: an array of numbers, or (<c>encoding_format: base64</c>) its little-endian float32 bytes in base64.</param>
public sealed record EmbeddingData(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] object Embedding);

/// <summary>What the request cost in tokens: each text's CLIP tokens (start and end included, at most 77); images count none.</summary>
/// <param name="PromptTokens">The tokens of every text.</param>
/// <param name="TotalTokens">The same.</param>
public sealed record EmbeddingsUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>The models served.</summary>
/// <param name="Object">Always <c>list</c>.</param>
/// <param name="Data">The loaded model, or none.</param>
public sealed record OpenAiModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data);

/// <summary>A model, as OpenAI describes one.</summary>
/// <param name="Id">The Hub repository it came from, else its folder's name.</param>
/// <param name="Object">Always <c>model</c>.</param>
/// <param name="Created">When its config.json was written (Unix seconds).</param>
/// <param name="OwnedBy">The Hub repository's owner, else <c>clipsearch</c>.</param>
public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);
