using System.Text;
using System.Text.Json.Nodes;
using ClipSearch.Core.Tokenization;

namespace ClipSearch.Core.Tests.Tokenization;

public sealed class ClipTokenizerTests
{
    private const int Start = 49406;
    private const int End = 49407;

    private static readonly Lazy<ClipTokenizer> Unlimited =
        new(() => ClipTokenizer.FromFolder(Fixtures.Path("tiny-clip"), 1_000_000));

    public static TheoryData<int> CaseIndices => TokenizerCases.Indices();

    [Fact]
    public void Fixture_HasCasesLongerThanTheContext()
    {
        // So that the truncation assertions below are not vacuous.
        Assert.Equal(40, TokenizerCases.All.Count);
        Assert.Contains(TokenizerCases.All, c => c.Ids.Length > 77);
        Assert.Contains(TokenizerCases.All, c => c.Ids.Length == 77);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Encode_MatchesReferenceIds(int index)
    {
        var c = TokenizerCases.All[index];

        // 'ids' is the untruncated Hugging Face output: compare it to a tokenizer with a huge context...
        Assert.Equal(c.Ids, Unlimited.Value.Encode(c.Text));

        // ...and its truncated form to the default tokenizer (77 tokens: start + first 75 + end).
        var expected = c.Ids.Length <= 77 ? c.Ids : [.. c.Ids[..76], End];
        Assert.Equal(expected, ClipTokenizer.Default.Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Encode_MatchesPadded77ReferenceWithoutPadding(int index)
    {
        var c = TokenizerCases.All[index];
        var realLength = c.Padded77AttentionMask.Count(m => m == 1);
        Assert.All(c.Padded77InputIds[realLength..], id => Assert.Equal(End, id));

        Assert.Equal(c.Padded77InputIds[..realLength], ClipTokenizer.Default.Encode(c.Text));
    }

    [Fact]
    public void EncodeBatch_OfAllCases_EqualsPadded77Reference()
    {
        // One case is longer than the context, so the batch is 77 wide: exactly transformers' max_length padding.
        var cases = TokenizerCases.All;
        var batch = ClipTokenizer.Default.EncodeBatch([.. cases.Select(c => c.Text)]);

        Assert.Equal(cases.Count, batch.Count);
        Assert.Equal(77, batch.Length);
        for (var i = 0; i < cases.Count; i++)
        {
            Assert.Equal(cases[i].Padded77InputIds.Select(id => (long)id), batch.InputIds.Skip(i * 77).Take(77));
            Assert.Equal(cases[i].Padded77AttentionMask.Select(m => (long)m), batch.AttentionMask.Skip(i * 77).Take(77));
            Assert.Equal(cases[i].Padded77AttentionMask.Sum(), batch.Lengths[i]);
        }
    }

    [Fact]
    public void Encode_OpenAiReferenceDiffersOnlyOnHtmlEntities()
    {
        // openai/CLIP's simple_tokenizer also unescapes HTML entities; Hugging Face (our target) does not.
        var differing = TokenizerCases.All.Where(c => !c.Ids.SequenceEqual(c.OpenAiReferenceIds)).ToList();
        var single = Assert.Single(differing);
        Assert.Contains("&amp;", single.Text, StringComparison.Ordinal);
        Assert.Equal(single.Ids, ClipTokenizer.Default.Encode(single.Text));
    }

    [Fact]
    public void Default_HasClipConstants()
    {
        var tokenizer = ClipTokenizer.Default;
        Assert.Same(tokenizer, ClipTokenizer.Default);
        Assert.Equal(Start, tokenizer.StartTokenId);
        Assert.Equal(End, tokenizer.EndTokenId);
        Assert.Equal(End, tokenizer.PadTokenId);
        Assert.Equal(49408, tokenizer.VocabularySize);
        Assert.Equal(77, tokenizer.ContextLength);
    }

    [Fact]
    public void Default_IsCreatedOnceUnderConcurrency()
    {
        var instances = new ClipTokenizer[8];
        Parallel.For(0, instances.Length, i => instances[i] = ClipTokenizer.Default);
        Assert.All(instances, t => Assert.Same(ClipTokenizer.Default, t));
    }

    [Fact]
    public void Encode_EmptyAndWhitespace_GiveStartAndEnd()
    {
        Assert.Equal([Start, End], ClipTokenizer.Default.Encode(""));
        Assert.Equal([Start, End], ClipTokenizer.Default.Encode(" \t\n\u00A0\u3000 "));
    }

    [Fact]
    public void Encode_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => ClipTokenizer.Default.Encode(null!));
    }

    [Fact]
    public void Encode_Truncation_KeepsStartFirst75TokensAndEnd()
    {
        var text = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"word{i} and more"));
        var full = Unlimited.Value.Encode(text);
        Assert.True(full.Length > 77);

        var truncated = ClipTokenizer.Default.Encode(text);

        Assert.Equal(77, truncated.Length);
        Assert.Equal(Start, truncated[0]);
        Assert.Equal(full[1..76], truncated[1..76]);
        Assert.Equal(End, truncated[76]);
    }

    [Fact]
    public void Encode_ExactlyFullContext_IsNotTruncated()
    {
        // 75 single-token words fill the context exactly.
        var text = string.Join(' ', Enumerable.Repeat("cat", 75));
        var ids = ClipTokenizer.Default.Encode(text);
        Assert.Equal(77, ids.Length);
        Assert.Equal(ids, Unlimited.Value.Encode(text));
        Assert.Equal(76, ClipTokenizer.Default.Encode(string.Join(' ', Enumerable.Repeat("cat", 74))).Length);
    }

    [Fact]
    public void Encode_SplitsSpecialTokensBeforeThePattern()
    {
        // Hugging Face splits added tokens first, so "!" stays apart from a following special token, and the
        // special tokens match after lowercasing (they are "normalized" added tokens in tokenizer.json).
        var ids = ClipTokenizer.Default.Encode("!<|endoftext|>a <|STARTOFTEXT|>");
        Assert.Equal([Start, 256, End, 320, Start, End], ids);
    }

    [Fact]
    public void Encode_DecomposedText_EqualsComposedText()
    {
        Assert.Equal(ClipTokenizer.Default.Encode("naïve café résumé"), ClipTokenizer.Default.Encode("nai\u0308ve cafe\u0301 re\u0301sume\u0301"));
    }

    [Fact]
    public void Encode_LoneSurrogates_DoNotThrow()
    {
        var ids = ClipTokenizer.Default.Encode("a\uD800b \uDC00 c\uD83D");
        Assert.Equal(Start, ids[0]);
        Assert.Equal(End, ids[^1]);
        Assert.True(ids.Length > 4);
    }

    [Fact]
    public void EncodeBatch_PadsToLongestWithPadIdAndMasksPadding()
    {
        var tokenizer = ClipTokenizer.Default;
        string[] texts = ["a photo of a cat", "", "dog"];
        var batch = tokenizer.EncodeBatch(texts);

        Assert.Equal(3, batch.Count);
        Assert.Equal(7, batch.Length);
        Assert.Equal([7, 2, 3], batch.Lengths);
        Assert.Equal(
            [
                Start, 320, 1125, 539, 320, 2368, End,
                Start, End, End, End, End, End, End,
                Start, 1929, End, End, End, End, End,
            ],
            batch.InputIds);
        Assert.Equal(
            [
                1, 1, 1, 1, 1, 1, 1,
                1, 1, 0, 0, 0, 0, 0,
                1, 1, 1, 0, 0, 0, 0,
            ],
            batch.AttentionMask);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(tokenizer.Encode(texts[i]).Select(id => (long)id), batch.InputIds.Skip(i * 7).Take(batch.Lengths[i]));
        }
    }

    [Fact]
    public void EncodeBatch_FixedLength_PadsShortRowsAndCutsLongOnes()
    {
        // What ClipModel feeds a graph whose sequence length is fixed: the same padder, to that length.
        var batch = ClipTokenizer.Default.EncodeBatch(["a photo of a cat", "", "dog"], length: 4);

        Assert.Equal((3, 4), (batch.Count, batch.Length));
        Assert.Equal([4, 2, 3], batch.Lengths);
        Assert.Equal([Start, 320, 1125, 539, Start, End, End, End, Start, 1929, End, End], batch.InputIds);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0], batch.AttentionMask);
    }

    [Fact]
    public void EncodeBatch_EmptyList_GivesEmptyBatch()
    {
        var batch = ClipTokenizer.Default.EncodeBatch([]);
        Assert.Equal(0, batch.Count);
        Assert.Equal(0, batch.Length);
        Assert.Empty(batch.InputIds);
        Assert.Empty(batch.AttentionMask);
        Assert.Empty(batch.Lengths);
    }

    [Fact]
    public void EncodeBatch_NullListOrText_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => ClipTokenizer.Default.EncodeBatch(null!));
        var ex = Assert.Throws<ArgumentNullException>(() => ClipTokenizer.Default.EncodeBatch(["a", null!]));
        Assert.Contains("1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_VocabAndMerges_MatchesDefault()
    {
        var tokenizer = ClipTokenizer.FromFolder(Fixtures.Path("tiny-clip"));
        AssertSameAsDefault(tokenizer);
    }

    [Fact]
    public void FromFolder_TokenizerJsonWithPairMerges_MatchesDefault()
    {
        using var folder = new TempFolder();
        File.Copy(Fixtures.Path("tiny-clip", "tokenizer.json"), folder.File("tokenizer.json"));
        var json = JsonNode.Parse(File.ReadAllText(folder.File("tokenizer.json")))!;
        Assert.IsType<JsonArray>(json["model"]!["merges"]![0]);

        AssertSameAsDefault(ClipTokenizer.FromFolder(folder.Path));
    }

    [Fact]
    public void FromFolder_TokenizerJsonWithStringMerges_MatchesDefault()
    {
        using var folder = new TempFolder();
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.Path("clip-tokenizer", "tokenizer.json")))!;
        var merges = json["model"]!["merges"]!.AsArray();
        var asStrings = new JsonArray([.. merges.Select(m => (JsonNode)JsonValue.Create($"{m![0]} {m[1]}"))]);
        json["model"]!["merges"] = asStrings;
        File.WriteAllText(folder.File("tokenizer.json"), json.ToJsonString());

        AssertSameAsDefault(ClipTokenizer.FromFolder(folder.Path));
    }

    [Fact]
    public void FromFolder_ContextLength_IsUsedForTruncation()
    {
        var tokenizer = ClipTokenizer.FromFolder(Fixtures.Path("tiny-clip"), contextLength: 5);
        Assert.Equal(5, tokenizer.ContextLength);
        Assert.Equal([Start, 320, 1125, 539, End], tokenizer.Encode("a photo of a cat"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipTokenizer.FromFolder(Fixtures.Path("tiny-clip"), 1));
    }

    [Fact]
    public void FromFolder_MissingFolder_ThrowsModelLoadException()
    {
        var path = Path.Combine(Path.GetTempPath(), "clipsearch-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_EmptyFolder_NamesVocabJson()
    {
        using var folder = new TempFolder();
        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("vocab.json"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_VocabWithoutMerges_NamesMergesTxt()
    {
        using var folder = new TempFolder();
        File.Copy(Fixtures.Path("tiny-clip", "vocab.json"), folder.File("vocab.json"));
        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("merges.txt"), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"a\": 1, ", "not valid JSON")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{\"a\": \"x\"}", "'a'")]
    [InlineData("{\"a\": 1, \"b\": 2}", "<|startoftext|>")]
    [InlineData("", "not valid JSON")]
    [InlineData("{\"<|startoftext|>\": 0, \"<|endoftext|>\": 0}", "id 0 to two tokens")]
    public void FromFolder_CorruptVocab_NamesVocabJson(string vocab, string problem)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("vocab.json"), vocab);
        File.Copy(Fixtures.Path("tiny-clip", "merges.txt"), folder.File("merges.txt"));

        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("vocab.json"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_TruncatedVocab_NamesBothFiles()
    {
        // Valid JSON, but merges refer to tokens that are not there.
        using var folder = new TempFolder();
        var vocab = JsonNode.Parse(File.ReadAllText(Fixtures.Path("tiny-clip", "vocab.json")))!.AsObject();
        var kept = new JsonObject();
        foreach (var (token, node) in vocab)
        {
            var id = node!.GetValue<int>();
            if (id < 1000 || id >= 49406)
            {
                kept[token] = id;
            }
        }

        File.WriteAllText(folder.File("vocab.json"), kept.ToJsonString());
        File.Copy(Fixtures.Path("tiny-clip", "merges.txt"), folder.File("merges.txt"));

        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("merges.txt"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(folder.File("vocab.json"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFolder_CorruptMerges_NamesMergesTxtAndLine()
    {
        using var folder = new TempFolder();
        File.Copy(Fixtures.Path("tiny-clip", "vocab.json"), folder.File("vocab.json"));
        File.WriteAllText(folder.File("merges.txt"), "#version: 0.2\ni n\nthis is bad\n");

        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("merges.txt"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("merge 3", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model\": ", "not valid JSON")]
    [InlineData("{\"version\": \"1.0\"}", "\"model\"")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}, \"merges\": []}}", "WordPiece")]
    [InlineData("{\"model\": {\"vocab\": {}}}", "model.merges")]
    [InlineData("{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": [1]}}", "merge 1")]
    public void FromFolder_CorruptTokenizerJson_NamesTokenizerJson(string json, string problem)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("tokenizer.json"), json);

        var ex = Assert.Throws<ModelLoadException>(() => ClipTokenizer.FromFolder(folder.Path));
        Assert.Contains(folder.File("tokenizer.json"), ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_EnormousText_ReturnsContextQuicklyAndEqualsTruncatedEncoding()
    {
        var sentence = "A photo of 3 cats, sitting on the café's sofa! ";
        var builder = new StringBuilder();
        while (builder.Length < 1_000_000)
        {
            builder.Append(sentence);
        }

        var enormous = builder.ToString();
        var head = enormous[..2000]; // plenty for 75 tokens

        var ids = ClipTokenizer.Default.Encode(enormous);

        Assert.Equal(77, ids.Length);
        Assert.Equal(ClipTokenizer.Default.Encode(head), ids);
        Assert.Equal(Unlimited.Value.Encode(head)[..76], ids[..76]);
    }

    [Theory]
    [InlineData('x')]
    [InlineData('!')]
    [InlineData('7')]
    [InlineData(' ')]
    public void Encode_EnormousRunOfOneCharacter_IsQuick(char c)
    {
        var enormous = new string(c, 1_000_000) + " cat";
        var ids = ClipTokenizer.Default.Encode(enormous);

        Assert.Equal(Start, ids[0]);
        Assert.Equal(End, ids[^1]);
        var expected = c == ' ' ? [Start, 2368, End] : Unlimited.Value.Encode(new string(c, 20_000))[..76];
        Assert.Equal(expected, c == ' ' ? ids : ids[..76]);
    }

    [Fact]
    public void Encode_LongRandomTexts_EqualFullTokenizationTruncated()
    {
        // Texts beyond the cut-search threshold, so the early cut is used, compared to tokenizing them whole.
        var random = new Random(1234);
        string[] pieces = ["cat", "Photo", "über", "日本語", "naïve", "e\u0301", "'s", "'", "!!", "...", "42", "7", "𠮷", "🐱", "<|endoftext|>", "\u00A0", " ", "  ", "\t", "\n", "-", "_", "İ"];
        for (var n = 0; n < 40; n++)
        {
            var builder = new StringBuilder();
            var separatorChance = random.Next(1, 10);
            while (builder.Length < 2100 + random.Next(3000))
            {
                builder.Append(pieces[random.Next(pieces.Length)]);
                if (random.Next(10) < separatorChance)
                {
                    builder.Append(' ');
                }
            }

            var text = builder.ToString();
            var full = Unlimited.Value.Encode(text);
            int[] expected = full.Length <= 77 ? full : [.. full[..76], End];
            Assert.Equal(expected, ClipTokenizer.Default.Encode(text));
        }
    }

    [Fact]
    public void Encode_HugeRandomWord_CutInsideEqualsFullTokenization()
    {
        // The one approximation: a run without whitespace or digits longer than 8192 characters is cut inside.
        var random = new Random(99);
        const string Letters = "abcdefghijklmnopqrstuvwxyzéàü";
        for (var n = 0; n < 5; n++)
        {
            var chars = new char[30_000];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Letters[random.Next(n == 0 ? 3 : Letters.Length)];
            }

            var text = new string(chars);
            Assert.True(ClipTokenizer.SafePrefixLength(text, 77) < text.Length);
            Assert.Equal(Unlimited.Value.Encode(text)[..76], ClipTokenizer.Default.Encode(text)[..76]);
        }
    }

    [Fact]
    public void Encode_ConcurrentCalls_GiveTheSameIdsAsSequentialCalls()
    {
        var texts = TokenizerCases.All.Select(c => c.Text)
            .Concat(Enumerable.Range(0, 200).Select(i => $"photo number {i} of a thing{i % 17} with words{i % 31}"))
            .ToArray();
        var tokenizer = ClipTokenizer.FromFolder(Fixtures.Path("tiny-clip")); // fresh, cold cache
        var expected = texts.Select(t => ClipTokenizer.Default.Encode(t)).ToArray();

        var results = new int[texts.Length * 4][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            results[i] = tokenizer.Encode(texts[i % texts.Length]));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % texts.Length], results[i]);
        }
    }

    private static void AssertSameAsDefault(ClipTokenizer tokenizer)
    {
        Assert.Equal(Start, tokenizer.StartTokenId);
        Assert.Equal(End, tokenizer.EndTokenId);
        Assert.Equal(49408, tokenizer.VocabularySize);
        Assert.Equal(77, tokenizer.ContextLength);
        foreach (var c in TokenizerCases.All)
        {
            Assert.Equal(ClipTokenizer.Default.Encode(c.Text), tokenizer.Encode(c.Text));
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clipsearch-tokenizer-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
