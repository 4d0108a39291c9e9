using System.Reflection;
using System.Text;
using System.Text.Json;
using ClipSearch.Core.Model;

namespace ClipSearch.Core.Tokenization;

/// <summary>
/// A BPE vocabulary and merge list as read from a model folder (vocab.json + merges.txt, or tokenizer.json) or from
/// the copy embedded in this assembly. Every problem becomes a <see cref="ModelLoadException"/> naming the file.
/// </summary>
internal sealed class ClipVocabulary
{
    internal const string VocabFileName = "vocab.json";
    internal const string MergesFileName = "merges.txt";
    internal const string TokenizerJsonFileName = "tokenizer.json";

    private const string EmbeddedVocab = "ClipSearch.Core.Tokenization.vocab.json";
    private const string EmbeddedMerges = "ClipSearch.Core.Tokenization.merges.txt";

    private ClipVocabulary(Dictionary<string, int> tokens, List<string> merges, string vocabSource, string mergesSource)
    {
        var ids = new Dictionary<int, string>(tokens.Count);
        foreach (var (token, id) in tokens)
        {
            if (!ids.TryAdd(id, token))
            {
                throw new ModelLoadException(
                    $"The vocabulary in '{vocabSource}' gives the id {id} to two tokens, '{ids[id]}' and '{token}'.");
            }
        }

        Tokens = tokens;
        Merges = merges;
        VocabSource = vocabSource;
        MergesSource = mergesSource;
    }

    /// <summary>Token to id.</summary>
    public Dictionary<string, int> Tokens { get; }

    /// <summary>The merges in priority order, each as "left right".</summary>
    public List<string> Merges { get; }

    /// <summary>Where the tokens came from (a path), for error messages.</summary>
    public string VocabSource { get; }

    /// <summary>Where the merges came from (a path), for error messages.</summary>
    public string MergesSource { get; }

    /// <summary>Reads the vocabulary embedded in this assembly.</summary>
    public static ClipVocabulary FromEmbeddedResources()
    {
        var assembly = typeof(ClipVocabulary).Assembly;
        using var vocab = OpenResource(assembly, EmbeddedVocab);
        using var merges = OpenResource(assembly, EmbeddedMerges);
        return new ClipVocabulary(
            ReadVocabJson(ReadAll(vocab), EmbeddedVocab),
            ReadMergesText(merges, EmbeddedMerges),
            EmbeddedVocab,
            EmbeddedMerges);
    }

    /// <summary>Reads vocab.json + merges.txt from the folder, or else its tokenizer.json.</summary>
    public static ClipVocabulary FromFolder(string modelDirectory)
    {
        if (!Directory.Exists(modelDirectory))
        {
            throw new ModelLoadException($"The model folder '{modelDirectory}' does not exist.");
        }

        var files = FilesIn(modelDirectory);
        if (files.Length == 2)
        {
            var (vocabPath, mergesPath) = (files[0], files[1]);
            var tokens = ReadVocabJson(ReadFile(vocabPath), vocabPath);
            using var mergesStream = new MemoryStream(ReadFile(mergesPath));
            return new ClipVocabulary(tokens, ReadMergesText(mergesStream, mergesPath), vocabPath, mergesPath);
        }

        if (files.Length == 1)
        {
            return ReadTokenizerJson(ReadFile(files[0]), files[0]);
        }

        var missing = Path.Combine(modelDirectory, File.Exists(Path.Combine(modelDirectory, VocabFileName)) ? MergesFileName : VocabFileName);
        throw new ModelLoadException(
            $"The tokenizer file '{missing}' is missing (the model folder needs {VocabFileName} and {MergesFileName}, "
            + $"or {TokenizerJsonFileName}).");
    }

    /// <summary>The files <see cref="FromFolder"/> reads: vocab.json and merges.txt when both are there, else tokenizer.json, else none.</summary>
    internal static string[] FilesIn(string modelDirectory)
    {
        var vocabPath = Path.Combine(modelDirectory, VocabFileName);
        var mergesPath = Path.Combine(modelDirectory, MergesFileName);
        var tokenizerJsonPath = Path.Combine(modelDirectory, TokenizerJsonFileName);
        return File.Exists(vocabPath) && File.Exists(mergesPath) ? [vocabPath, mergesPath]
            : File.Exists(tokenizerJsonPath) ? [tokenizerJsonPath]
            : [];
    }

    private static Stream OpenResource(Assembly assembly, string name) =>
        assembly.GetManifestResourceStream(name)
        ?? throw new ModelLoadException($"The embedded tokenizer resource '{name}' is missing from {assembly.GetName().Name}.");

    /// <summary>The file's bytes, read as a regular file only, bounded and within the read timeout (a FIFO or a device is refused at once).</summary>
    private static byte[] ReadFile(string path)
    {
        try
        {
            return ModelFiles.ReadSmall(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"The tokenizer file '{path}' cannot be read: {ex.Message}", ex);
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static ReadOnlySpan<byte> WithoutBom(byte[] utf8) =>
        utf8.AsSpan().StartsWith("\uFEFF"u8) ? utf8.AsSpan(3) : utf8;

    /// <summary>Parses {"token": id, ...}.</summary>
    private static Dictionary<string, int> ReadVocabJson(byte[] utf8, string source)
    {
        try
        {
            var reader = new Utf8JsonReader(WithoutBom(utf8));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ModelLoadException($"The vocabulary file '{source}' is not a JSON object of token to id.");
            }

            var tokens = ReadTokenObject(ref reader, source);
            if (reader.Read())
            {
                throw new ModelLoadException($"The vocabulary file '{source}' has data after its JSON object.");
            }

            return tokens;
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"The vocabulary file '{source}' is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Reads the members of an object the reader has just entered, up to its end.</summary>
    private static Dictionary<string, int> ReadTokenObject(ref Utf8JsonReader reader, string source)
    {
        var tokens = new Dictionary<string, int>(50_000, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var token = reader.GetString()!;
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var id) || id < 0)
            {
                throw new ModelLoadException(
                    $"The vocabulary in '{source}' maps the token '{token}' to something other than a non-negative integer id.");
            }

            if (!tokens.TryAdd(token, id))
            {
                throw new ModelLoadException($"The vocabulary in '{source}' lists the token '{token}' twice.");
            }
        }

        return tokens;
    }

    /// <summary>Parses merges.txt: an optional "#version" line, then "left right" per line.</summary>
    private static List<string> ReadMergesText(Stream stream, string source)
    {
        var merges = new List<string>(50_000);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var lineNumber = 0;
        try
        {
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                {
                    continue;
                }

                AddMerge(merges, line, source, lineNumber);
            }
        }
        catch (IOException ex)
        {
            throw new ModelLoadException($"The merges file '{source}' cannot be read: {ex.Message}", ex);
        }

        return merges;
    }

    private static void AddMerge(List<string> merges, string merge, string source, int number)
    {
        var space = merge.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
        {
            throw new ModelLoadException(
                $"The merges in '{source}' are corrupt: merge {number} is '{merge}', not two tokens separated by one space.");
        }

        merges.Add(merge);
    }

    /// <summary>Parses a Hugging Face tokenizer.json: model.vocab and model.merges ("a b" strings or ["a", "b"] pairs).</summary>
    private static ClipVocabulary ReadTokenizerJson(byte[] utf8, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.AsMemory(utf8.Length - WithoutBom(utf8).Length));
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"The tokenizer file '{source}' is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("model", out var model)
                || model.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"The tokenizer file '{source}' has no \"model\" object.");
            }

            if (model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "BPE")
            {
                throw new ModelLoadException(
                    $"The tokenizer file '{source}' describes a {type.GetString()} model; CLIP needs a BPE model.");
            }

            if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"The tokenizer file '{source}' has no \"model.vocab\" object.");
            }

            if (!model.TryGetProperty("merges", out var mergesElement) || mergesElement.ValueKind != JsonValueKind.Array)
            {
                throw new ModelLoadException($"The tokenizer file '{source}' has no \"model.merges\" array.");
            }

            var tokens = new Dictionary<string, int>(50_000, StringComparer.Ordinal);
            foreach (var member in vocab.EnumerateObject())
            {
                if (member.Value.ValueKind != JsonValueKind.Number || !member.Value.TryGetInt32(out var id) || id < 0)
                {
                    throw new ModelLoadException(
                        $"The vocabulary in '{source}' maps the token '{member.Name}' to something other than a non-negative integer id.");
                }

                if (!tokens.TryAdd(member.Name, id))
                {
                    throw new ModelLoadException($"The vocabulary in '{source}' lists the token '{member.Name}' twice.");
                }
            }

            var merges = new List<string>(mergesElement.GetArrayLength());
            var number = 0;
            foreach (var item in mergesElement.EnumerateArray())
            {
                number++;
                var merge = item.ValueKind switch
                {
                    JsonValueKind.String => item.GetString()!,
                    JsonValueKind.Array when item.GetArrayLength() == 2
                        && item[0].ValueKind == JsonValueKind.String
                        && item[1].ValueKind == JsonValueKind.String => $"{item[0].GetString()} {item[1].GetString()}",
                    _ => throw new ModelLoadException(
                        $"The merges in '{source}' are corrupt: merge {number} is neither \"a b\" nor [\"a\", \"b\"]."),
                };
                AddMerge(merges, merge, source, number);
            }

            return new ClipVocabulary(tokens, merges, source, source);
        }
    }
}
