using System.Text.Json;
using ClipSearch.Core.Model;

namespace ClipSearch.Core.Imaging;

/// <summary>
/// The image preprocessing of a CLIP model, as a Hugging Face <c>preprocessor_config.json</c> describes it:
/// resize the shorter side, centre-crop, rescale to 0..1, normalise per channel. The defaults are openai/CLIP's
/// ViT-B/32 ones (224, bicubic, CLIP's mean and std).
/// </summary>
public sealed class PreprocessConfig
{
    /// <summary>CLIP's per-channel mean (R, G, B), as openai/CLIP and <c>preprocessor_config.json</c> give it.</summary>
    public static IReadOnlyList<float> ClipMean { get; } = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>CLIP's per-channel standard deviation (R, G, B).</summary>
    public static IReadOnlyList<float> ClipStd { get; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Pillow's number for bicubic resampling (<c>Image.Resampling.BICUBIC</c>), CLIP's filter.</summary>
    public const int BicubicResample = 3;

    /// <summary>openai/CLIP ViT-B/32's preprocessing.</summary>
    public static PreprocessConfig Default { get; } = new();

    /// <summary>Whether the image is resized at all (<c>do_resize</c>).</summary>
    public bool DoResize { get; init; } = true;

    /// <summary>
    /// The length the shorter side is resized to (<c>size.shortest_edge</c>); the longer side becomes
    /// <c>int(ShortestEdge × long / short)</c>, as torchvision computes it.
    /// </summary>
    public int ShortestEdge { get; init; } = 224;

    /// <summary>Pillow's resampling filter number (<c>resample</c>): 0 nearest, 1 Lanczos, 2 bilinear, 3 bicubic, 4 box, 5 Hamming.</summary>
    public int Resample { get; init; } = BicubicResample;

    /// <summary>Whether the resized image is centre-cropped (<c>do_center_crop</c>).</summary>
    public bool DoCenterCrop { get; init; } = true;

    /// <summary>Height of the centre crop (<c>crop_size.height</c>).</summary>
    public int CropHeight { get; init; } = 224;

    /// <summary>Width of the centre crop (<c>crop_size.width</c>).</summary>
    public int CropWidth { get; init; } = 224;

    /// <summary>Whether 8-bit values are scaled (<c>do_rescale</c>) by <see cref="RescaleFactor"/>.</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary>The scale applied to 8-bit values (<c>rescale_factor</c>); 1/255 is applied as torchvision does, value / 255.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    /// <summary>Whether <see cref="Mean"/> and <see cref="Std"/> are applied (<c>do_normalize</c>).</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>Per-channel mean (R, G, B) subtracted after rescaling (<c>image_mean</c>).</summary>
    public IReadOnlyList<float> Mean { get; init; } = ClipMean;

    /// <summary>Per-channel standard deviation (R, G, B) divided by after subtracting the mean (<c>image_std</c>).</summary>
    public IReadOnlyList<float> Std { get; init; } = ClipStd;

    /// <summary>
    /// Reads a Hugging Face <c>preprocessor_config.json</c>. Keys that are absent keep CLIP's defaults; <c>size</c>
    /// and <c>crop_size</c> may be objects (<c>shortest_edge</c>; <c>height</c>/<c>width</c>) or plain numbers.
    /// </summary>
    /// <exception cref="ModelLoadException">The file is missing, is not JSON, or holds a value that cannot be used.</exception>
    public static PreprocessConfig FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = ModelFiles.ReadText(path);   // a regular file only, bounded, within the read timeout
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path} cannot be read: {e.Message}", e);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return FromJson(document.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static PreprocessConfig FromJson(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{path} is not a preprocessor configuration (expected a JSON object).");
        }

        (int cropHeight, int cropWidth) = ReadCropSize(root, path);
        var config = new PreprocessConfig
        {
            DoResize = ReadBool(root, "do_resize", true, path),
            ShortestEdge = ReadShortestEdge(root, path),
            Resample = ReadInt(root, "resample", BicubicResample, path),
            DoCenterCrop = ReadBool(root, "do_center_crop", true, path),
            CropHeight = cropHeight,
            CropWidth = cropWidth,
            DoRescale = ReadBool(root, "do_rescale", true, path),
            RescaleFactor = ReadDouble(root, "rescale_factor", 1.0 / 255.0, path),
            DoNormalize = ReadBool(root, "do_normalize", true, path),
            Mean = ReadTriple(root, "image_mean", ClipMean, path),
            Std = ReadTriple(root, "image_std", ClipStd, path),
        };

        if (root.TryGetProperty("do_convert_rgb", out var convert) && convert.ValueKind == JsonValueKind.False)
        {
            throw new ModelLoadException($"{path}: do_convert_rgb = false is not supported (images are always converted to RGB).");
        }

        if (config.Resample is < 0 or > 5)
        {
            throw new ModelLoadException($"{path}: resample = {config.Resample} is not one of Pillow's filters (0..5).");
        }

        foreach (var s in config.Std)
        {
            if (!(s > 0) || !float.IsFinite(s))
            {
                throw new ModelLoadException($"{path}: image_std must hold three positive numbers.");
            }
        }

        if (!(config.RescaleFactor > 0) || !double.IsFinite(config.RescaleFactor))
        {
            throw new ModelLoadException($"{path}: rescale_factor must be a positive number.");
        }

        return config;
    }

    private static int ReadShortestEdge(JsonElement root, string path)
    {
        if (!root.TryGetProperty("size", out var size) || size.ValueKind == JsonValueKind.Null)
        {
            return 224;
        }

        if (size.ValueKind == JsonValueKind.Number)
        {
            return PositiveInt(size, "size", path);
        }

        if (size.ValueKind == JsonValueKind.Object && size.TryGetProperty("shortest_edge", out var edge))
        {
            return PositiveInt(edge, "size.shortest_edge", path);
        }

        throw new ModelLoadException(
            $"{path}: size must be a number or hold shortest_edge (resizing to a fixed height and width is not supported).");
    }

    private static (int Height, int Width) ReadCropSize(JsonElement root, string path)
    {
        if (!root.TryGetProperty("crop_size", out var crop) || crop.ValueKind == JsonValueKind.Null)
        {
            return (224, 224);
        }

        if (crop.ValueKind == JsonValueKind.Number)
        {
            int side = PositiveInt(crop, "crop_size", path);
            return (side, side);
        }

        if (crop.ValueKind == JsonValueKind.Object
            && crop.TryGetProperty("height", out var height)
            && crop.TryGetProperty("width", out var width))
        {
            return (PositiveInt(height, "crop_size.height", path), PositiveInt(width, "crop_size.width", path));
        }

        throw new ModelLoadException($"{path}: crop_size must be a number or hold height and width.");
    }

    private static int PositiveInt(JsonElement value, string name, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result) || result <= 0)
        {
            throw new ModelLoadException($"{path}: {name} must be a positive whole number, not {value.GetRawText()}.");
        }

        return result;
    }

    private static bool ReadBool(JsonElement root, string name, bool fallback, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelLoadException($"{path}: {name} must be true or false, not {value.GetRawText()}."),
        };
    }

    private static int ReadInt(JsonElement root, string name, int fallback, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
        {
            throw new ModelLoadException($"{path}: {name} must be a whole number, not {value.GetRawText()}.");
        }

        return result;
    }

    private static double ReadDouble(JsonElement root, string name, double fallback, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new ModelLoadException($"{path}: {name} must be a number, not {value.GetRawText()}.");
        }

        return value.GetDouble();
    }

    private static float[] ReadTriple(JsonElement root, string name, IReadOnlyList<float> fallback, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [.. fallback];
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 3)
        {
            throw new ModelLoadException($"{path}: {name} must be a list of three numbers (R, G, B), not {value.GetRawText()}.");
        }

        var result = new float[3];
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number)
            {
                throw new ModelLoadException($"{path}: {name} must be a list of three numbers (R, G, B), not {value.GetRawText()}.");
            }

            // JSON numbers are read as double and narrowed, as torch.as_tensor(..., dtype=float32) does.
            result[i++] = (float)item.GetDouble();
        }

        return result;
    }
}
