using System.Text.Json;

namespace ClipSearch.Web.Api;

/// <summary>How <c>POST /v1/embeddings</c> sends its vectors.</summary>
public enum EmbeddingEncoding
{
    /// <summary>A JSON array of numbers (OpenAI's default).</summary>
    Float,

    /// <summary>The little-endian float32 bytes, base64 (what the official clients ask for and decode).</summary>
    Base64,
}

/// <summary>One input of <c>POST /v1/embeddings</c>: a text, or an image given in the request.</summary>
/// <param name="Index">Its place in <c>input</c>.</param>
/// <param name="Text">The text, or null for an image.</param>
/// <param name="Image">The image's JSON string (a <c>data:</c> URL, base64 or an <c>http(s)</c> URL), or null for a text.</param>
internal sealed record EmbeddingInput(int Index, string? Text, JsonElement? Image);

/// <summary>
/// The body of <c>POST /v1/embeddings</c> as OpenAI and the servers that extend it send it:
/// <c>{"model", "input": string | string[], "encoding_format": "float" | "base64", "dimensions"}</c>; Infinity's
/// <c>"modality": "image"</c> makes string inputs images; Jina's item objects <c>{"text": …}</c> and
/// <c>{"image": …}</c> may be mixed with strings. Unknown fields (<c>user</c>…) are ignored. Every mistake is a 400
/// in OpenAI's words, naming the field.
/// </summary>
/// <param name="Model">The model asked for.</param>
/// <param name="Encoding">How to send the vectors.</param>
/// <param name="Dimensions">The vector length asked for, if any.</param>
/// <param name="Inputs">The inputs, in order.</param>
internal sealed record EmbeddingsBody(string Model, EmbeddingEncoding Encoding, int? Dimensions, IReadOnlyList<EmbeddingInput> Inputs)
{
    private const string InputShape = "a string, an array of strings, or an array of {\"text\": …} and {\"image\": …} objects";

    /// <summary>Reads <paramref name="root"/>, refusing more images or texts than <paramref name="limits"/> allow before any is decoded.</summary>
    /// <exception cref="ApiProblemException">The body is not such a request (400, naming the field).</exception>
    public static EmbeddingsBody Read(JsonElement root, ClipSearchOptions limits)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Bad("The body must be a JSON object: {\"model\": …, \"input\": …}.", null);
        }

        var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(m.GetString())
            ? m.GetString()!
            : throw Bad("'model' is required: the id GET /v1/models lists.", "model");

        var encoding = !root.TryGetProperty("encoding_format", out var e) || e.ValueKind == JsonValueKind.Null
            ? EmbeddingEncoding.Float
            : e.ValueKind == JsonValueKind.String && e.GetString() is "float" ? EmbeddingEncoding.Float
            : e.ValueKind == JsonValueKind.String && e.GetString() is "base64" ? EmbeddingEncoding.Base64
            : throw Bad($"'encoding_format' is 'float' or 'base64', not {e.GetRawText()}.", "encoding_format");

        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            dimensions = d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) && n > 0
                ? n
                : throw Bad($"'dimensions' is a whole number above 0, not {d.GetRawText()}.", "dimensions");
        }

        var imagesByDefault = false;
        if (root.TryGetProperty("modality", out var modality) && modality.ValueKind != JsonValueKind.Null)
        {
            imagesByDefault = modality.ValueKind == JsonValueKind.String && modality.GetString() is "image" ? true
                : modality.ValueKind == JsonValueKind.String && modality.GetString() is "text" ? false
                : throw Bad($"'modality' is 'text' or 'image' (ClipSearch embeds no audio), not {modality.GetRawText()}.", "modality");
        }

        if (!root.TryGetProperty("input", out var input))
        {
            throw Bad($"'input' is required: {InputShape}.", "input");
        }

        var inputs = input.ValueKind switch
        {
            JsonValueKind.String => [Item(input, 0, imagesByDefault)],
            JsonValueKind.Array when input.GetArrayLength() == 0 => throw Bad("'input' is an empty array: give at least one text or image.", "input"),
            JsonValueKind.Array => ReadArray(input, imagesByDefault),
            _ => throw Bad($"'input' must be {InputShape}, not {Describe(input)}.", "input"),
        };

        var images = inputs.Count(i => i.Image is not null);
        if (images > limits.MaxImagesPerRequest)
        {
            throw Bad($"{images} images is too many for one request: at most {limits.MaxImagesPerRequest}.", "input");
        }

        var texts = inputs.Count - images;
        if (texts > limits.MaxTextsPerRequest)
        {
            throw Bad($"{texts} texts is too many for one request: at most {limits.MaxTextsPerRequest}.", "input");
        }

        return new EmbeddingsBody(model, encoding, dimensions, inputs);
    }

    private static List<EmbeddingInput> ReadArray(JsonElement array, bool imagesByDefault)
    {
        var inputs = new List<EmbeddingInput>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            inputs.Add(Item(item, inputs.Count, imagesByDefault));
        }

        return inputs;
    }

    private static EmbeddingInput Item(JsonElement item, int index, bool imagesByDefault)
    {
        var name = $"input[{index}]";
        switch (item.ValueKind)
        {
            case JsonValueKind.String when imagesByDefault:
                return new EmbeddingInput(index, null, item);
            case JsonValueKind.String:
                var text = item.GetString()!;
                return string.IsNullOrWhiteSpace(text)
                    ? throw Bad($"{name} is an empty string: give words to embed.", "input")
                    : new EmbeddingInput(index, text, null);
            case JsonValueKind.Object:
                var hasText = item.TryGetProperty("text", out var t);
                var hasImage = item.TryGetProperty("image", out var i);
                if (hasText == hasImage)
                {
                    throw Bad($"{name} must be {{\"text\": \"…\"}} or {{\"image\": \"data:image/…;base64,…\"}}, with one of the two.", "input");
                }

                if (hasText)
                {
                    return t.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(t.GetString())
                        ? new EmbeddingInput(index, t.GetString(), null)
                        : throw Bad($"{name}.text must be a string with words to embed, not {Describe(t)}.", "input");
                }

                return i.ValueKind == JsonValueKind.String
                    ? new EmbeddingInput(index, null, i)
                    : throw Bad($"{name}.image must be a string (a data: URL or base64), not {Describe(i)}.", "input");
            case JsonValueKind.Number:
            case JsonValueKind.Array:
                throw Bad($"{name} is a token array: ClipSearch embeds texts and images, not token ids (send the text).", "input");
            default:
                throw Bad($"'input' must be {InputShape}; {name} is {Describe(item)}.", "input");
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static ApiProblemException Bad(string message, string? param) => new(StatusCodes.Status400BadRequest, message, param);
}
