using System.Buffers;
using System.Diagnostics;
using ClipSearch.Core.Imaging;
using ClipSearch.Core.Similarity;
using ClipSearch.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace ClipSearch.Core.Model;

/// <summary>
/// CLIP loaded from a model folder: tokenizer, preprocessing and one ONNX Runtime session per encoder, created
/// once, shared by all threads, disposed once. Embeddings are L2-normalised.
/// </summary>
public sealed class ClipModel : IDisposable
{
    private const string InputIds = "input_ids";
    private const string AttentionMask = "attention_mask";
    private const string PixelValues = "pixel_values";
    private const string TextEmbeds = "text_embeds";
    private const string ImageEmbeds = "image_embeds";

    private readonly OnnxEncoder? _text;
    private readonly OnnxEncoder? _vision;
    private readonly bool _combined;
    private readonly ReaderWriterLockSlim _lifetime = new(LockRecursionPolicy.SupportsRecursion);
    private bool _disposed;

    private ClipModel(ModelFolder folder, ModelConfig config, ClipTokenizer tokenizer, PreprocessConfig preprocess,
        ModelOptions options, OnnxEncoder? text, OnnxEncoder? vision, IReadOnlyList<OnnxFileSummary> onnxFiles)
    {
        Folder = folder;
        Config = config;
        Tokenizer = tokenizer;
        Preprocess = preprocess;
        Options = options;
        _text = text;
        _vision = vision;
        _combined = folder.Layout == ModelLayout.Combined;
        OnnxFiles = onnxFiles;
        LogitScale = LogitScale.Find(folder.Directory, onnxFiles);
    }

    /// <summary>The files loaded.</summary>
    public ModelFolder Folder { get; }

    /// <summary>True when the text encoder was loaded (<see cref="ModelOptions.Encoders"/>), so that <see cref="EmbedTexts"/> works.</summary>
    public bool HasTextEncoder => _text is not null;

    /// <summary>Sizes from config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The folder's tokenizer.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>The folder's image preprocessing (CLIP's when it has no preprocessor_config.json).</summary>
    public PreprocessConfig Preprocess { get; }

    /// <summary>The options the model was loaded with.</summary>
    public ModelOptions Options { get; }

    /// <summary>exp(logit_scale) and where it came from.</summary>
    public LogitScale LogitScale { get; }

    /// <summary>What each ONNX file holds (parameter counts, external data), in <see cref="ModelFolder.OnnxFiles"/> order.</summary>
    public IReadOnlyList<OnnxFileSummary> OnnxFiles { get; }

    /// <summary>Wall time of <see cref="Load"/>.</summary>
    public TimeSpan LoadTime { get; private set; }

    /// <summary>Length of every embedding (the projection dimension).</summary>
    public int EmbeddingDim => Config.ProjectionDim;

    /// <summary>Inputs and outputs of the loaded graphs.</summary>
    public IReadOnlyList<GraphSignature> Signatures =>
        [.. new[] { _text, _combined ? null : _vision }.OfType<OnnxEncoder>().Select(e => e.Signature)];

    /// <summary>
    /// Loads the model in <paramref name="directory"/>. Every problem a user can cause — a missing folder, file or
    /// external-data file, a corrupt ONNX file, files that do not belong together — is a <see cref="ModelLoadException"/>
    /// naming the file.
    /// </summary>
    public static ClipModel Load(string directory, ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        options.Validate();

        var clock = Stopwatch.StartNew();
        var folder = ModelFolder.Open(directory, options.Variant, options.Layout);
        var config = ModelConfig.FromFile(folder.ConfigPath);
        var tokenizer = ClipTokenizer.FromFolder(folder.Directory, config.ContextLength);
        if (tokenizer.VocabularySize != config.VocabularySize)
        {
            throw new ModelLoadException($"The tokenizer files in {folder.Directory} hold {tokenizer.VocabularySize} tokens but config.json says vocab_size {config.VocabularySize}: they come from different models.");
        }

        var preprocess = folder.PreprocessorConfigPath is { } p ? PreprocessConfig.FromFile(p) : PreprocessConfig.Default;
        if (preprocess.CropWidth != config.ImageSize || preprocess.CropHeight != config.ImageSize)
        {
            throw new ModelLoadException($"preprocessor_config.json crops to {preprocess.CropWidth}×{preprocess.CropHeight} pixels but config.json says image_size {config.ImageSize}: they come from different models.");
        }

        var summaries = folder.OnnxFiles.Select(InspectWithExternalData).ToArray();

        OnnxEncoder? text = null, vision = null;
        try
        {
            using var sessionOptions = CreateSessionOptions(options);
            if (folder.Layout == ModelLayout.Combined)
            {
                text = vision = OnnxEncoder.Create(folder.CombinedModelPath!, Relative(folder, folder.CombinedModelPath!), sessionOptions);
            }
            else
            {
                if (options.Encoders.HasFlag(Encoders.Text))
                {
                    text = OnnxEncoder.Create(folder.TextModelPath!, Relative(folder, folder.TextModelPath!), sessionOptions);
                }

                if (options.Encoders.HasFlag(Encoders.Vision))
                {
                    vision = OnnxEncoder.Create(folder.VisionModelPath!, Relative(folder, folder.VisionModelPath!), sessionOptions);
                }
            }

            var model = new ClipModel(folder, config, tokenizer, preprocess, options, text, vision, summaries);
            model.CheckGraphs();
            model.LoadTime = clock.Elapsed;
            return model;
        }
        catch
        {
            text?.Dispose();
            if (!ReferenceEquals(vision, text))
            {
                vision?.Dispose();
            }

            throw;
        }
    }

    /// <summary>The normalised embedding of one text, encoded at its real length (no padding to the context).</summary>
    public float[] EmbedText(string text) => EmbedTexts([text])[0];

    /// <summary>
    /// Normalised embeddings of <paramref name="texts"/>, in their order. Texts are tokenized first and, with
    /// <see cref="ModelOptions.SortTextsByLength"/>, batched shortest first so that each batch pads to a length close to
    /// all its members'; a graph with a fixed sequence length gets every row padded to it.
    /// </summary>
    public float[][] EmbedTexts(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var encoder = _text ?? throw new InvalidOperationException("This model was loaded without its text encoder.");
        var fixedLength = encoder.FixedDimension(InputIds, 1);
        var rows = new int[texts.Count][];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = Tokenizer.Encode(texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text {i} is null."));
        }

        // Stable: texts of one length keep their order. Padding past the end token changes nothing (causal mask,
        // pooled at the end token), so the order of the batches is free.
        var order = Enumerable.Range(0, rows.Length).ToArray();
        if (Options.SortTextsByLength && fixedLength is null)
        {
            order = [.. order.OrderBy(i => rows[i].Length)];
        }

        var result = new float[texts.Count][];
        for (var start = 0; start < order.Length; start += Options.BatchSize)
        {
            var count = Math.Min(Options.BatchSize, order.Length - start);
            var members = order.AsSpan(start, count).ToArray();
            var batch = Tokenizer.Pad([.. members.Select(i => rows[i])], fixedLength);
            var embeddings = RunText(encoder, batch);
            for (var i = 0; i < count; i++)
            {
                result[members[i]] = Vectors.Normalized(embeddings[i]);
            }
        }

        return result;
    }

    /// <summary>Normalised embeddings of preprocessed images (each the crop size of <see cref="Preprocess"/>).</summary>
    public float[][] EmbedImages(IReadOnlyList<RgbImage> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        var encoder = _vision ?? throw new InvalidOperationException("This model was loaded without its vision encoder.");
        var size = Config.ImageSize;
        var perImage = 3 * size * size;
        var result = new float[crops.Count][];
        var buffer = ArrayPool<float>.Shared.Rent(Math.Min(Options.BatchSize, Math.Max(crops.Count, 1)) * perImage);
        try
        {
            for (var start = 0; start < crops.Count; start += Options.BatchSize)
            {
                var count = Math.Min(Options.BatchSize, crops.Count - start);
                for (var i = 0; i < count; i++)
                {
                    var crop = crops[start + i];
                    if (crop.Width != size || crop.Height != size)
                    {
                        throw new ArgumentException($"Image {start + i} is {crop.Width}×{crop.Height}; the model takes {size}×{size} crops.", nameof(crops));
                    }

                    Normalizer.ToChw(crop, Preprocess, buffer.AsSpan(i * perImage, perImage));
                }

                var rows = RunVision(encoder, buffer.AsMemory(0, count * perImage), count);
                for (var i = 0; i < count; i++)
                {
                    result[start + i] = Vectors.Normalized(rows[i]);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }

        return result;
    }

    /// <summary>Disposes the ONNX Runtime sessions, after the inference calls in flight have finished.</summary>
    public void Dispose()
    {
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _text?.Dispose();
            if (!ReferenceEquals(_vision, _text))
            {
                _vision?.Dispose();
            }
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }

    /// <summary>Runs an encoder while holding off <see cref="Dispose"/> (ONNX Runtime must not lose a session mid-run).</summary>
    private float[][] Guarded(Func<float[][]> run)
    {
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return run();
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    private float[][] RunText(OnnxEncoder encoder, TokenBatch batch)
    {
        var (rows, length) = (batch.Count, batch.Length);
        var names = new List<string> { InputIds };
        var values = new List<OrtValue> { encoder.IntegerInput(InputIds, batch.InputIds, rows, length) };
        try
        {
            if (encoder.HasInput(AttentionMask))
            {
                names.Add(AttentionMask);
                values.Add(encoder.IntegerInput(AttentionMask, batch.AttentionMask, rows, length));
            }

            if (_combined)
            {
                // The combined graph always runs both towers: give the vision tower one blank image.
                var size = Config.ImageSize;
                names.Add(PixelValues);
                values.Add(encoder.FloatInput(PixelValues, new float[3 * size * size], [1, 3, size, size]));
            }

            return Guarded(() => encoder.Run(names, values, TextEmbeds));
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    private float[][] RunVision(OnnxEncoder encoder, Memory<float> pixels, int count)
    {
        var size = Config.ImageSize;
        var names = new List<string> { PixelValues };
        var values = new List<OrtValue> { encoder.FloatInput(PixelValues, pixels, [count, 3, size, size]) };
        try
        {
            if (_combined)
            {
                // The combined graph always runs both towers: give the text tower the empty text.
                long[] ids = [Tokenizer.StartTokenId, Tokenizer.EndTokenId];
                names.Add(InputIds);
                values.Add(encoder.IntegerInput(InputIds, ids, 1, 2));
                if (encoder.HasInput(AttentionMask))
                {
                    names.Add(AttentionMask);
                    values.Add(encoder.IntegerInput(AttentionMask, [1, 1], 1, 2));
                }
            }

            return Guarded(() => encoder.Run(names, values, ImageEmbeds));
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    private void CheckGraphs()
    {
        if (_text is not null)
        {
            Require(_text, InputIds, isInput: true);
            Require(_text, TextEmbeds, isInput: false);
            CheckProjection(_text, TextEmbeds);
        }

        if (_vision is not null)
        {
            Require(_vision, PixelValues, isInput: true);
            Require(_vision, ImageEmbeds, isInput: false);
            CheckProjection(_vision, ImageEmbeds);
            var size = Config.ImageSize;
            foreach (var axis in new[] { 2, 3 })
            {
                if (_vision.FixedDimension(PixelValues, axis) is int fixedSize && fixedSize != size)
                {
                    throw new ModelLoadException($"{_vision.Signature.File} takes {fixedSize}-pixel images but config.json and preprocessor_config.json say {size}: the files come from different models.");
                }
            }
        }

        foreach (var encoder in new[] { _text, _vision }.OfType<OnnxEncoder>().Distinct())
        {
            var unknown = encoder.Signature.Inputs.Select(i => i.Name)
                .Where(n => n is not (InputIds or AttentionMask or PixelValues)).ToArray();
            if (unknown.Length > 0)
            {
                throw new ModelLoadException($"{encoder.Signature.File} takes inputs ClipSearch does not know how to feed: {string.Join(", ", unknown)} (a CLIP export takes input_ids, attention_mask, pixel_values).");
            }
        }
    }

    private static void Require(OnnxEncoder encoder, string name, bool isInput)
    {
        if (isInput ? !encoder.HasInput(name) : !encoder.HasOutput(name))
        {
            var list = isInput ? encoder.Signature.Inputs : encoder.Signature.Outputs;
            throw new ModelLoadException($"{encoder.Signature.File} has no {(isInput ? "input" : "output")} named {name} (it has: {string.Join(", ", list.Select(s => s.Name))}); is it a CLIP export?");
        }
    }

    private void CheckProjection(OnnxEncoder encoder, string output)
    {
        if (encoder.FixedLastDimension(output) is int dim && dim != Config.ProjectionDim)
        {
            throw new ModelLoadException($"{encoder.Signature.File} gives {dim}-d {output} but config.json says projection_dim {Config.ProjectionDim}: the files come from different models.");
        }
    }

    private static OnnxFileSummary InspectWithExternalData(string path)
    {
        var summary = OnnxFileInspector.Inspect(path);
        foreach (var data in summary.ExternalDataFiles)
        {
            _ = ModelFolder.ExternalDataFile(path, data);   // missing, or not a regular file: ONNX Runtime would hang or fail on it
        }

        return summary;
    }

    private static SessionOptions CreateSessionOptions(ModelOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Threads,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        return sessionOptions;
    }

    private static string Relative(ModelFolder folder, string path) => Path.GetRelativePath(folder.Directory, path);
}
