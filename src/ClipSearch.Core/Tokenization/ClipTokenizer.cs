using Microsoft.ML.Tokenizers;

namespace ClipSearch.Core.Tokenization;

/// <summary>
/// The CLIP byte-level BPE tokenizer, giving the same ids as the Hugging Face tokenizer of
/// openai/clip-vit-base-patch32: NFC, whitespace runs collapsed, lowercase, CLIP's split pattern, byte-level BPE with the
/// "&lt;/w&gt;" end-of-word suffix, then &lt;|startoftext|&gt; … &lt;|endoftext|&gt;, truncated to
/// <see cref="ContextLength"/> tokens (the first <see cref="ContextLength"/> − 2 text tokens are kept).
/// </summary>
/// <remarks>
/// Instances are immutable and safe to use from several threads at once. BPE results of words are cached (by
/// Microsoft.ML.Tokenizers), so repeated words cost a dictionary look-up.
/// </remarks>
public sealed class ClipTokenizer
{
    /// <summary>The context length of CLIP ViT-B/32's text model.</summary>
    public const int DefaultContextLength = 77;

    internal const string StartToken = "<|startoftext|>";
    internal const string EndToken = "<|endoftext|>";

    /// <summary>Texts up to this many characters are tokenized whole, without looking for a place to cut.</summary>
    private const int CutSearchThreshold = 2048;

    /// <summary>
    /// A run of characters with no whitespace and no ASCII digit longer than this is cut here (see
    /// <see cref="SafePrefixLength"/>). A CLIP token spans at most 32 UTF-8 bytes, so this many characters make at least
    /// 256 tokens: far more than a context holds.
    /// </summary>
    private const int MaxRunLength = 8192;

    private static readonly Lazy<ClipTokenizer> DefaultInstance =
        new(() => new ClipTokenizer(ClipVocabulary.FromEmbeddedResources(), DefaultContextLength), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(ClipVocabulary vocabulary, int contextLength)
    {
        ContextLength = contextLength;
        StartTokenId = RequireToken(vocabulary, StartToken);
        EndTokenId = RequireToken(vocabulary, EndToken);
        VocabularySize = vocabulary.Tokens.Values.Max() + 1;

        var specialTokens = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [StartToken] = StartTokenId,
            [EndToken] = EndTokenId,
        };

        var options = new BpeOptions(vocabulary.Tokens)
        {
            Merges = vocabulary.Merges,
            SpecialTokens = specialTokens,
            Normalizer = ClipNormalizer.Instance,
            PreTokenizer = new ClipPreTokenizer(specialTokens.Keys),
            UnknownToken = EndToken,
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
        };

        try
        {
            _bpe = BpeTokenizer.Create(options);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            var files = vocabulary.VocabSource == vocabulary.MergesSource
                ? $"'{vocabulary.VocabSource}'"
                : $"'{vocabulary.MergesSource}' and '{vocabulary.VocabSource}'";
            throw new ModelLoadException($"The tokenizer files {files} do not fit together: {ex.Message}", ex);
        }
    }

    /// <summary>The tokenizer with the CLIP vocabulary embedded in this assembly and a context of 77 tokens.</summary>
    /// <remarks>Created on first use (once, thread-safely); later calls return the same instance.</remarks>
    public static ClipTokenizer Default => DefaultInstance.Value;

    /// <summary>The id of &lt;|startoftext|&gt; (49406 in CLIP).</summary>
    public int StartTokenId { get; }

    /// <summary>The id of &lt;|endoftext|&gt; (49407 in CLIP).</summary>
    public int EndTokenId { get; }

    /// <summary>The id rows are padded with: CLIP pads with &lt;|endoftext|&gt;, so this equals <see cref="EndTokenId"/>.</summary>
    public int PadTokenId => EndTokenId;

    /// <summary>Number of token ids (the largest id + 1; 49408 in CLIP).</summary>
    public int VocabularySize { get; }

    /// <summary>The most tokens <see cref="Encode"/> returns, start and end tokens included (77 in CLIP).</summary>
    public int ContextLength { get; }

    /// <summary>
    /// Loads the tokenizer of a model folder: vocab.json + merges.txt, or else tokenizer.json (its model.vocab and
    /// model.merges).
    /// </summary>
    /// <param name="modelDirectory">The folder.</param>
    /// <param name="contextLength">The text model's context length (max_position_embeddings in its config.json).</param>
    /// <exception cref="ModelLoadException">The folder or its files are missing, unreadable or corrupt; the message names the file.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextLength"/> is less than 2.</exception>
    public static ClipTokenizer FromFolder(string modelDirectory, int contextLength = DefaultContextLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        return new ClipTokenizer(ClipVocabulary.FromFolder(modelDirectory), contextLength);
    }

    /// <summary>
    /// Encodes a text: &lt;|startoftext|&gt;, its tokens, &lt;|endoftext|&gt;; if that is longer than
    /// <see cref="ContextLength"/>, only the first <see cref="ContextLength"/> − 2 text tokens are kept. Never padded.
    /// </summary>
    /// <param name="text">The text; "" gives [start, end].</param>
    /// <returns>Between 2 and <see cref="ContextLength"/> ids.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var prefixLength = SafePrefixLength(text, ContextLength);
        var tokens = prefixLength == text.Length
            ? _bpe.EncodeToIds(text)
            : _bpe.EncodeToIds(text.AsSpan(0, prefixLength));

        var count = Math.Min(tokens.Count, ContextLength - 2);
        var ids = new int[count + 2];
        ids[0] = StartTokenId;
        for (var i = 0; i < count; i++)
        {
            ids[i + 1] = tokens[i];
        }

        ids[^1] = EndTokenId;
        return ids;
    }

    /// <summary>
    /// Encodes several texts (each as <see cref="Encode"/> does) and pads them with <see cref="PadTokenId"/> to the
    /// longest one, or to <paramref name="length"/> when the model's graph fixes it (longer rows are cut there). The
    /// one padder (through <see cref="Pad"/>, which <see cref="Model.ClipModel.EmbedTexts"/> feeds the model with).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="texts"/> or one of its texts is null.</exception>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int? length = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rows = new int[texts.Count][];
        for (var i = 0; i < rows.Length; i++)
        {
            var text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text {i} of the batch is null.");
            rows[i] = Encode(text);
        }

        return Pad(rows, length);
    }

    /// <summary>
    /// Texts encoded by <see cref="Encode"/>, padded with <see cref="PadTokenId"/> to the longest one, or to
    /// <paramref name="length"/> when the model's graph fixes it (longer rows are cut there).
    /// </summary>
    public TokenBatch Pad(IReadOnlyList<int[]> encoded, int? length = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return TokenBatch.Pad([.. encoded], PadTokenId, length);
    }

    /// <summary>
    /// The length of a prefix of <paramref name="text"/> whose first <paramref name="contextLength"/> − 2 tokens are
    /// those of the whole text, so that an enormous text is not normalized and tokenized whole.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The text is cut only where the pieces before the cut cannot depend on what follows: before a whitespace
    /// character, or next to an ASCII digit. No pre-token spans whitespace, every digit is a piece of its own, the
    /// special tokens hold neither, and NFC never composes a digit or whitespace with its neighbour; normalization,
    /// splitting and BPE of the prefix are therefore exactly the start of those of the whole text. The cut is made
    /// once the prefix holds at least <paramref name="contextLength"/> "units" (a digit, or a run without whitespace
    /// and digits), each of which gives at least one token: more than the context keeps.
    /// </para>
    /// <para>
    /// The one approximation: a single run of more than <see cref="MaxRunLength"/> characters without whitespace or
    /// digits (one gigantic "word") is cut inside, since Hugging Face would run BPE over all of it. BPE merges are
    /// local, so the tokens 8192 characters before the cut are the same in practice (a test checks long random runs).
    /// </para>
    /// </remarks>
    internal static int SafePrefixLength(ReadOnlySpan<char> text, int contextLength)
    {
        if (text.Length <= CutSearchThreshold)
        {
            return text.Length;
        }

        // NFC can shrink text (Hangul jamo compose three to one), hence the factor 4 over 32 bytes per token.
        var maxRun = Math.Max(MaxRunLength, contextLength * 32 * 4);
        var units = 0;
        var runStart = 0;
        var previous = UnitKind.WhiteSpace;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var kind = char.IsWhiteSpace(c) ? UnitKind.WhiteSpace : char.IsAsciiDigit(c) ? UnitKind.Digit : UnitKind.Run;
            var boundary = kind != previous || kind == UnitKind.Digit;
            if (boundary && units >= contextLength)
            {
                return i;
            }

            if (kind == UnitKind.Digit || (kind == UnitKind.Run && previous != UnitKind.Run))
            {
                units++;
                runStart = i;
            }
            else if (kind == UnitKind.Run && i - runStart >= maxRun && !char.IsLowSurrogate(c))
            {
                return i;
            }

            previous = kind;
        }

        return text.Length;
    }

    private static int RequireToken(ClipVocabulary vocabulary, string token) =>
        vocabulary.Tokens.TryGetValue(token, out var id)
            ? id
            : throw new ModelLoadException($"The vocabulary in '{vocabulary.VocabSource}' has no '{token}' token.");

    private enum UnitKind
    {
        WhiteSpace,
        Digit,
        Run,
    }
}
