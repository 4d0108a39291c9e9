using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClipSearch.Core.Model;

/// <summary>
/// The sizes of a CLIP model, read from its <c>config.json</c> (transformers' CLIPConfig). Nothing here is assumed
/// about ViT-B/32: where a field is absent, <see cref="Fallback"/> documents the value taken and why.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>
    /// The one place ViT-B/32's numbers appear: used only for fields a config.json leaves out (older exports omit
    /// defaults, exactly as transformers fills them in from CLIPTextConfig/CLIPVisionConfig defaults).
    /// </summary>
    public static ModelConfig Fallback { get; } = new()
    {
        ProjectionDim = 512,
        Text = new EncoderConfig(Layers: 12, Width: 512, Heads: 8, IntermediateSize: 2048),
        Vision = new EncoderConfig(Layers: 12, Width: 768, Heads: 12, IntermediateSize: 3072),
        ContextLength = 77,
        VocabularySize = 49408,
        ImageSize = 224,
        PatchSize = 32,
    };

    /// <summary>Length of the embeddings both encoders project to (512 for ViT-B/32).</summary>
    public required int ProjectionDim { get; init; }

    /// <summary>The text transformer.</summary>
    public required EncoderConfig Text { get; init; }

    /// <summary>The vision transformer.</summary>
    public required EncoderConfig Vision { get; init; }

    /// <summary>Maximum tokens per text, start and end included (max_position_embeddings; 77).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Number of tokens in the vocabulary (49,408).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Side of the square image the vision encoder sees (224).</summary>
    public required int ImageSize { get; init; }

    /// <summary>Side of one patch in pixels (32 for ViT-B/32).</summary>
    public required int PatchSize { get; init; }

    /// <summary>
    /// Whether these are CLIP ViT-B/32's sizes (those of <see cref="Fallback"/>): 12 text and 12 vision layers, widths
    /// 512 and 768, 32-pixel patches of 224-pixel images, 512-d projections. Other front ends name a model by its
    /// architecture (Immich's <c>ViT-B-32__openai</c>); this says whether the loaded one has it.
    /// </summary>
    public bool HasVitB32Geometry =>
        Text.Layers == Fallback.Text.Layers && Vision.Layers == Fallback.Vision.Layers
        && Text.Width == Fallback.Text.Width && Vision.Width == Fallback.Vision.Width
        && PatchSize == Fallback.PatchSize && ImageSize == Fallback.ImageSize && ProjectionDim == Fallback.ProjectionDim;

    /// <summary>The sizes in a few words: <c>12 + 12 layers, widths 512/768, patch 32, 224 px, 512-d</c>.</summary>
    public string Geometry =>
        $"{Text.Layers} + {Vision.Layers} layers, widths {Text.Width}/{Vision.Width}, patch {PatchSize}, {ImageSize} px, {ProjectionDim}-d";

    /// <summary>
    /// Reads <paramref name="path"/> (as a regular file only, at most 64 MB, within the read timeout); a missing,
    /// unreadable or malformed file gives a <see cref="ModelLoadException"/>.
    /// </summary>
    public static ModelConfig FromFile(string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(ModelFiles.ReadText(path)) as JsonObject
                ?? throw new ModelLoadException($"{path} is not a JSON object.");
        }
        catch (FileNotFoundException e)
        {
            throw new ModelLoadException($"{path} is missing: a model folder needs config.json (the transformers CLIPConfig).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path} cannot be read: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path} is not valid JSON: {e.Message}", e);
        }

        var text = root["text_config"] as JsonObject;
        var vision = root["vision_config"] as JsonObject;
        var fallback = Fallback;
        try
        {
            return new ModelConfig
            {
                ProjectionDim = Int(root, "projection_dim") ?? Int(text, "projection_dim") ?? fallback.ProjectionDim,
                Text = Encoder(text, fallback.Text),
                Vision = Encoder(vision, fallback.Vision),
                ContextLength = Int(text, "max_position_embeddings") ?? fallback.ContextLength,
                VocabularySize = Int(text, "vocab_size") ?? fallback.VocabularySize,
                ImageSize = Int(vision, "image_size") ?? fallback.ImageSize,
                PatchSize = Int(vision, "patch_size") ?? fallback.PatchSize,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"{path}: a size field is not an integer ({e.Message}).", e);
        }
    }

    private static EncoderConfig Encoder(JsonObject? node, EncoderConfig fallback) => new(
        Layers: Int(node, "num_hidden_layers") ?? fallback.Layers,
        Width: Int(node, "hidden_size") ?? fallback.Width,
        Heads: Int(node, "num_attention_heads") ?? fallback.Heads,
        IntermediateSize: Int(node, "intermediate_size") ?? fallback.IntermediateSize);

    private static int? Int(JsonObject? node, string name) =>
        node?[name] is JsonValue value ? value.GetValue<int>() : null;
}

/// <summary>The shape of one transformer encoder.</summary>
/// <param name="Layers">Number of transformer blocks.</param>
/// <param name="Width">Hidden size.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="IntermediateSize">Width of the MLP.</param>
public sealed record EncoderConfig(int Layers, int Width, int Heads, int IntermediateSize);
