using ClipSearch.Core;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Model;
using ClipSearch.Core.Similarity;
using Microsoft.Extensions.Options;

namespace ClipSearch.Web.Services;

/// <summary>An image prepared for the model.</summary>
/// <param name="FileName">Its upload name.</param>
/// <param name="Crop">The 224×224 image the model sees.</param>
public sealed record PreparedImage(string FileName, RgbImage Crop);

/// <summary>The outcome of a match.</summary>
/// <param name="Images">Image names, in order.</param>
/// <param name="Texts">Texts, in order.</param>
/// <param name="Scores">Cosine, logits and probabilities, [image][text].</param>
/// <param name="Crops">What the model saw, per image.</param>
/// <param name="LogitScale">exp(logit_scale).</param>
public sealed record MatchOutcome(IReadOnlyList<string> Images, IReadOnlyList<string> Texts, MatchResult Scores, IReadOnlyList<RgbImage> Crops, float LogitScale);

/// <summary>Embeddings of inputs taken one by one (<see cref="ClipService.EmbedInputsAsync"/>).</summary>
/// <param name="Images">The images' unit vectors, in order.</param>
/// <param name="Texts">The texts' unit vectors, in order.</param>
/// <param name="TextTokens">The tokens the model read of each text: start and end included, at most its context (77).</param>
/// <param name="Model">The model that made them.</param>
public sealed record EmbeddedInputs(float[][] Images, float[][] Texts, IReadOnlyList<int> TextTokens, ModelInfo Model);

/// <summary>The outcome of zero-shot classification.</summary>
/// <param name="Ranked">Labels, most probable first (top k).</param>
/// <param name="LabelCount">Labels scored.</param>
/// <param name="TemplateCount">Templates per label.</param>
/// <param name="Elapsed">Time taken (the first use of a preset embeds every prompt; later ones hit the cache).</param>
/// <param name="LabelEmbeddings">Where the label embeddings came from: memory, the disk cache, or computed now.</param>
/// <param name="TemplateSet">The preset's template set used, or null when the request gave its own templates or no preset.</param>
public sealed record ClassifyOutcome(IReadOnlyList<LabelScore> Ranked, int LabelCount, int TemplateCount, TimeSpan Elapsed, LabelEmbeddingSource LabelEmbeddings,
    TemplateSet? TemplateSet = null);

/// <summary>A preset as the UI and <c>GET /api/classify/presets</c> describe it, with what its first use costs here.</summary>
/// <param name="Preset">The preset.</param>
/// <param name="PromptsPerSecond">The loaded model's measured text-encoder rate, or null (no model, or not measured yet).</param>
/// <param name="Cached">Whether its default templates' embeddings are cached (memory or disk) for the loaded model.</param>
/// <param name="CachedAll">The same for all its templates.</param>
public sealed record PresetCost(ZeroShotPreset Preset, double? PromptsPerSecond, bool Cached, bool CachedAll)
{
    /// <summary>Seconds the first use with <paramref name="set"/> takes (0 when cached), or null without a measured rate.</summary>
    public double? EstimatedSeconds(TemplateSet set) =>
        (set == TemplateSet.All ? CachedAll : Cached) ? 0 : PromptsPerSecond is > 0 and var rate ? Preset.Prompts(set) / rate : null;
}

/// <summary>
/// What the API and the UI both do with the model: check inputs, decode images, embed (through the batcher),
/// match, classify, search. Every user mistake is a <see cref="ClipSearchException"/> with a clear message.
/// </summary>
public sealed class ClipService(ModelHost host, EmbeddingBatcher batcher, IImageSearch images, ZeroShotLabels zeroShot, ImageDecoding decoding, IOptions<ClipSearchOptions> options)
{
    private readonly ClipSearchOptions _options = options.Value;

    /// <summary>The images searched: the photo library or the session's uploads.</summary>
    public IImageSearch Images => images;

    /// <summary>Upload limits in force.</summary>
    public ClipSearchOptions Limits => _options;

    /// <summary>Normalised embeddings of images and texts (<c>POST /api/embed</c>: texts split into lines, blank ones dropped).</summary>
    public async Task<(float[][] Images, float[][] Texts, int Dim)> EmbedAsync(IReadOnlyList<Upload> uploads, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        CheckUploads(uploads, allowNone: true);
        var cleanTexts = CleanTexts(texts, allowNone: true);
        if (uploads.Count == 0 && cleanTexts.Count == 0)
        {
            throw new ClipSearchException("Nothing to embed: send at least one image (field 'images') or text (field 'texts').");
        }

        var embedded = await EmbedInputsAsync(uploads, cleanTexts, null, cancellationToken).ConfigureAwait(false);
        return (embedded.Images, embedded.Texts, embedded.Model.ProjectionDim);
    }

    /// <summary>
    /// Normalised embeddings of images and texts, one for each input and each text as it is given (the embedding
    /// servers' routes: OpenAI's <c>/v1/embeddings</c>, Immich's <c>/predict</c>), through the same decoding and
    /// batcher as <see cref="EmbedAsync"/>, so the vectors are its vectors. <paramref name="check"/> sees the model
    /// the request holds before anything is decoded (and may refuse it by throwing).
    /// </summary>
    /// <exception cref="ClipSearchException">No input, too many, a text empty or too long, an image empty, too large or not an image.</exception>
    public async Task<EmbeddedInputs> EmbedInputsAsync(IReadOnlyList<Upload> uploads, IReadOnlyList<string> texts, Action<LoadedModel>? check, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        CheckUploads(uploads, allowNone: true);
        CheckTexts(texts);
        if (uploads.Count == 0 && texts.Count == 0)
        {
            throw new ClipSearchException("Nothing to embed: give at least one image or text.");
        }

        using var lease = host.Acquire();
        check?.Invoke(lease.Loaded);
        // What the model reads of each text: start and end tokens included, truncated to its context (77).
        int[] tokens = [.. texts.Select(t => lease.Model.Tokenizer.Encode(t).Length)];
        var crops = await PrepareAsync(uploads, lease.Loaded, cancellationToken).ConfigureAwait(false);
        var imageTask = batcher.EmbedImagesAsync(lease.Loaded, [.. crops.Select(c => c.Crop)], cancellationToken);
        var textTask = batcher.EmbedTextsAsync(lease.Loaded, texts, cancellationToken);
        return new EmbeddedInputs(await imageTask.ConfigureAwait(false), await textTask.ConfigureAwait(false), tokens, lease.Loaded.Info);
    }

    /// <summary>Every image against every text.</summary>
    public async Task<MatchOutcome> MatchAsync(IReadOnlyList<Upload> uploads, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        CheckUploads(uploads, allowNone: false);
        var cleanTexts = CleanTexts(texts, allowNone: false);
        using var lease = host.Acquire();
        var crops = await PrepareAsync(uploads, lease.Loaded, cancellationToken).ConfigureAwait(false);
        var textTask = batcher.EmbedTextsAsync(lease.Loaded, cleanTexts, cancellationToken);
        var imageTask = batcher.EmbedImagesAsync(lease.Loaded, [.. crops.Select(c => c.Crop)], cancellationToken);
        var scale = lease.Model.LogitScale.Value;
        var scores = MatchResult.Compute(await imageTask.ConfigureAwait(false), await textTask.ConfigureAwait(false), scale);
        return new MatchOutcome([.. crops.Select(c => c.FileName)], cleanTexts, scores, [.. crops.Select(c => c.Crop)], scale);
    }

    /// <summary>
    /// Zero-shot classification of one image over labels (or a preset), with prompt ensembling; a preset's label
    /// embeddings come from the disk cache when an earlier run made them with the same model files.
    /// </summary>
    /// <remarks>Without templates of its own, a preset's classes use its <paramref name="templateSet"/>.</remarks>
    public async Task<ClassifyOutcome> ClassifyAsync(Upload upload, IReadOnlyList<string>? labels, string? preset, IReadOnlyList<string>? templates, int topK, CancellationToken cancellationToken,
        IProgress<ZeroShotProgress>? progress = null, TemplateSet templateSet = TemplateSet.Default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        CheckUploads([upload], allowNone: false);
        if (topK < 1)
        {
            throw new ClipSearchException(WebErrorCodes.BadTopK, $"k is how many labels to show: at least 1, not {topK}.", [topK]);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var chosen = string.IsNullOrWhiteSpace(preset) ? null : ZeroShotPresets.Get(preset);
        IReadOnlyList<string> cleanLabels = CleanLabels(labels);
        if (cleanLabels.Count == 0)
        {
            cleanLabels = chosen?.Classes ?? throw new ClipSearchException(WebErrorCodes.NoLabels, "No labels: give labels (one per line) or a preset.");
        }

        IReadOnlyList<string> cleanTemplates = CleanLines(templates);
        TemplateSet? usedSet = null;
        if (cleanTemplates.Count == 0)
        {
            usedSet = chosen is null ? null : templateSet;
            cleanTemplates = chosen?.TemplatesOf(templateSet) ?? [ZeroShotClassifier.DefaultTemplate];
        }

        if (cleanLabels.Count > 10_000 || cleanTemplates.Count > 100)
        {
            throw new ClipSearchException("Too many labels or templates: at most 10,000 labels and 100 templates.");
        }

        using var lease = host.Acquire();
        var crops = await PrepareAsync([upload], lease.Loaded, cancellationToken).ConfigureAwait(false);
        var image = (await batcher.EmbedImagesAsync(lease.Loaded, [crops[0].Crop], cancellationToken).ConfigureAwait(false))[0];
        // Label embeddings: the model's classifier cache, else (a preset's own classes) the disk cache, else embedded now.
        var cachedAs = chosen is not null && ReferenceEquals(cleanLabels, chosen.Classes) ? chosen.Name : null;
        var (source, labelEmbeddings) = await zeroShot.EmbeddingsAsync(lease.Loaded, cachedAs, cleanLabels, cleanTemplates, progress, cancellationToken).ConfigureAwait(false);
        var ranked = lease.Loaded.Classifier.Classify(image, cleanLabels, labelEmbeddings);
        return new ClassifyOutcome([.. ranked.Take(Math.Min(topK, ranked.Count))], cleanLabels.Count, cleanTemplates.Count, clock.Elapsed, source, usedSet);
    }

    /// <summary>
    /// Every preset with what its first use costs with the loaded model: its prompts, whether they are cached, and
    /// the estimated seconds from the model's measured prompts per second (measured now on a few prompts when
    /// nothing has been embedded yet). Without a model, no rate and nothing cached.
    /// </summary>
    public async Task<IReadOnlyList<PresetCost>> PresetCostsAsync(CancellationToken cancellationToken)
    {
        if (!host.IsLoaded)
        {
            return [.. ZeroShotPresets.All.Values.Select(p => new PresetCost(p, null, false, false))];
        }

        using var lease = host.Acquire();
        var rate = await zeroShot.PromptsPerSecondAsync(lease.Loaded, ZeroShotPresets.Get("imagenet"), cancellationToken).ConfigureAwait(false);
        return [.. ZeroShotPresets.All.Values.Select(p => new PresetCost(p, rate, zeroShot.IsCached(lease.Loaded, p, TemplateSet.Default), zeroShot.IsCached(lease.Loaded, p, TemplateSet.All)))];
    }

    /// <summary>Adds images to the session's uploads.</summary>
    /// <exception cref="ClipSearchException">The server searches the photo library, which takes folders, not uploads.</exception>
    public async Task<IReadOnlyList<ImageEntry>> AddUploadsAsync(IReadOnlyList<Upload> uploads, CancellationToken cancellationToken)
    {
        CheckUploads(uploads, allowNone: false);
        using var lease = host.Acquire();
        var session = images.Uploads
            ?? throw new ClipSearchException("This server searches the photo library: add folders on the Library tab or with POST /api/library/folders {\"path\": …}.");
        return await session.AddAsync(uploads, lease.Loaded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Library images ranked by a text.</summary>
    public async Task<ResultPage> SearchByTextAsync(string text, PageRequest search, CancellationToken cancellationToken)
    {
        var query = CleanTexts([text], allowNone: false);
        using var lease = host.Acquire();
        var embedding = (await batcher.EmbedTextsAsync(lease.Loaded, query, cancellationToken).ConfigureAwait(false))[0];
        return await images.SearchAsync(embedding, lease.Loaded, Check(search), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Library images ranked by an uploaded image.</summary>
    public async Task<ResultPage> SearchByImageAsync(Upload upload, PageRequest search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        CheckUploads([upload], allowNone: false);
        using var lease = host.Acquire();
        var crops = await PrepareAsync([upload], lease.Loaded, cancellationToken).ConfigureAwait(false);
        var embedding = (await batcher.EmbedImagesAsync(lease.Loaded, [crops[0].Crop], cancellationToken).ConfigureAwait(false))[0];
        return await images.SearchAsync(embedding, lease.Loaded, Check(search), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Library images like the library image <paramref name="id"/> ("more like this"; the image itself left out).</summary>
    public async Task<ResultPage> SearchByIdAsync(string id, PageRequest search, CancellationToken cancellationToken)
    {
        using var lease = host.Acquire();
        var embedding = await images.EmbeddingAsync(id, lease.Loaded, cancellationToken).ConfigureAwait(false)
            ?? throw new ClipSearchException($"No library image has the id '{id}'.");
        return await images.SearchAsync(embedding, lease.Loaded, Check(search) with { ExcludeId = id }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A JPEG thumbnail of an upload, for the UI (through the decode budget).</summary>
    /// <exception cref="ImageLoadException">Not an image, too large, truncated or corrupt.</exception>
    public Task<byte[]> ThumbnailAsync(Upload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return decoding.ThumbnailAsync(upload.Bytes, upload.FileName, cancellationToken);
    }

    /// <summary>Lines of <paramref name="text"/>, trimmed, blank ones dropped.</summary>
    public static IReadOnlyList<string> Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : [.. text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];

    private static PageRequest Check(PageRequest search)
    {
        if (search.K is < 1 or > 200)
        {
            throw new ClipSearchException($"k must be between 1 and 200, not {search.K}.");
        }

        if (search.Offset < 0)
        {
            throw new ClipSearchException("offset cannot be negative.");
        }

        if (float.IsNaN(search.MinScore) || search.MinScore is < -1 or > 1)
        {
            throw new ClipSearchException("minScore is a cosine similarity: between -1 and 1.");
        }

        return search;
    }

    private void CheckUploads(IReadOnlyList<Upload> uploads, bool allowNone)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        if (uploads.Count == 0 && !allowNone)
        {
            throw new ClipSearchException(WebErrorCodes.NoImage, $"No image: upload at least one image ({ImageFormats.Readable}).");
        }

        if (uploads.Count > _options.MaxImagesPerRequest)
        {
            throw new ClipSearchException(WebErrorCodes.TooManyImages, $"{uploads.Count} images is too many for one request: at most {_options.MaxImagesPerRequest}.", [uploads.Count, _options.MaxImagesPerRequest]);
        }

        foreach (var upload in uploads)
        {
            if (upload.Bytes.LongLength > _options.MaxImageBytes)
            {
                throw new ClipSearchException(WebErrorCodes.TooLarge, $"{upload.FileName} is {Sizes.Megabytes(upload.Bytes.LongLength)}; the limit is {Sizes.Megabytes(_options.MaxImageBytes)} per image.", [upload.FileName, Sizes.Megabytes(upload.Bytes.LongLength), Sizes.Megabytes(_options.MaxImageBytes)]);
            }

            if (upload.Bytes.Length == 0)
            {
                throw new ClipSearchException(WebErrorCodes.EmptyFile, $"{upload.FileName} is empty.", [upload.FileName]);
            }
        }
    }

    // Texts taken one each as given: none blank, at most MaxTextsPerRequest, each at most MaxTextLength characters.
    private void CheckTexts(IReadOnlyList<string> texts)
    {
        if (texts.Count > _options.MaxTextsPerRequest)
        {
            throw new ClipSearchException(WebErrorCodes.TooManyTexts, $"{texts.Count} texts is too many for one request: at most {_options.MaxTextsPerRequest}.", [texts.Count, _options.MaxTextsPerRequest]);
        }

        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                throw new ClipSearchException($"Text {i + 1} of {texts.Count} is empty: give words to embed.");
            }

            if (texts[i].Length > _options.MaxTextLength)
            {
                throw new ClipSearchException(WebErrorCodes.TextTooLong, $"A text is {texts[i].Length:N0} characters long; the limit is {_options.MaxTextLength:N0} (CLIP reads only its first 77 tokens).", [texts[i].Length, _options.MaxTextLength]);
            }
        }
    }

    private List<string> CleanTexts(IReadOnlyList<string>? texts, bool allowNone)
    {
        var clean = CleanLines(texts);
        if (clean.Count == 0 && !allowNone)
        {
            throw new ClipSearchException(WebErrorCodes.NoText, "No text: give at least one text (field 'texts', one per line in the UI).");
        }

        if (clean.Count > _options.MaxTextsPerRequest)
        {
            throw new ClipSearchException(WebErrorCodes.TooManyTexts, $"{clean.Count} texts is too many for one request: at most {_options.MaxTextsPerRequest}.", [clean.Count, _options.MaxTextsPerRequest]);
        }

        return clean;
    }

    // The user's own labels (a preset's classes never come through here): at most MaxTextsPerRequest, as texts are,
    // since each new set is embedded and kept in the model's classifier cache.
    private List<string> CleanLabels(IReadOnlyList<string>? labels)
    {
        var clean = CleanLines(labels);
        if (clean.Count > _options.MaxTextsPerRequest)
        {
            throw new ClipSearchException(WebErrorCodes.TooManyLabels, $"{clean.Count} labels is too many for one request: at most {_options.MaxTextsPerRequest}.", [clean.Count, _options.MaxTextsPerRequest]);
        }

        return clean;
    }

    // Lines of every value, each at most MaxTextLength characters (CLIP reads 77 tokens; a megabyte of text would
    // only cost tokenizer time).
    private List<string> CleanLines(IReadOnlyList<string>? lines)
    {
        List<string> clean = lines is null ? [] : [.. lines.SelectMany(l => Lines(l))];
        if (clean.FirstOrDefault(l => l.Length > _options.MaxTextLength) is { } tooLong)
        {
            throw new ClipSearchException(WebErrorCodes.TextTooLong, $"A text is {tooLong.Length:N0} characters long; the limit is {_options.MaxTextLength:N0} (CLIP reads only its first 77 tokens).", [tooLong.Length, _options.MaxTextLength]);
        }

        return clean;
    }

    // One image at a time, each through the decode budget: a request never holds more than one decoded image.
    private async Task<PreparedImage[]> PrepareAsync(IReadOnlyList<Upload> uploads, LoadedModel model, CancellationToken cancellationToken)
    {
        var prepared = new PreparedImage[uploads.Count];
        for (var i = 0; i < uploads.Count; i++)
        {
            prepared[i] = new PreparedImage(uploads[i].FileName, await decoding.CropAsync(uploads[i], model.Model, cancellationToken).ConfigureAwait(false));
        }

        return prepared;
    }

}
