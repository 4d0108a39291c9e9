using System.Text;
using System.Text.RegularExpressions;
using ClipSearch.Core.Tokenization;
using Microsoft.ML.Tokenizers;

namespace ClipSearch.Core.Tests.Tokenization;

public sealed class ClipPreTokenizerTests
{
    private static readonly Dictionary<string, int> SpecialTokens = new()
    {
        ["<|startoftext|>"] = 49406,
        ["<|endoftext|>"] = 49407,
    };

    private static readonly ClipPreTokenizer PreTokenizer = new(SpecialTokens.Keys);

    [Theory]
    [InlineData("a photo of a cat", new[] { "a", "photo", "of", "a", "cat" })]
    [InlineData("don't stop believin'", new[] { "don", "'t", "stop", "believin", "'" })]
    [InlineData("it's we're i've i'm we'll he'd", new[] { "it", "'s", "we", "'re", "i", "'ve", "i", "'m", "we", "'ll", "he", "'d" })]
    [InlineData("a's !'s ''s", new[] { "a", "'s", "!'", "s", "''", "s" })]
    [InlineData("1234 x2", new[] { "1", "2", "3", "4", "x", "2" })]
    [InlineData("e-mail: a@b.com", new[] { "e", "-", "mail", ":", "a", "@", "b", ".", "com" })]
    [InlineData("emoji 🐱🐶🚀 test", new[] { "emoji", "🐱🐶🚀", "test" })]
    [InlineData("snake_case_name", new[] { "snake", "_", "case", "_", "name" })]
    [InlineData("<|startoftext|>", new[] { "<|startoftext|>" })]
    [InlineData("!<|endoftext|>!!<|startoftext|><|endoftext|>x", new[] { "!", "<|endoftext|>", "!!", "<|startoftext|>", "<|endoftext|>", "x" })]
    [InlineData("<|endoftext|", new[] { "<|", "endoftext", "|" })]
    [InlineData("", new string[0])]
    [InlineData("   ", new string[0])]
    public void PreTokenize_SplitsLikeTheClipPattern(string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(text));
    }

    [Theory]
    [InlineData("a𠮷b", new[] { "a𠮷b" })] // CJK Extension B letter: one word, as in Hugging Face
    [InlineData("𝐀𝐁𝐂!", new[] { "𝐀𝐁𝐂", "!" })] // mathematical bold letters
    [InlineData("x𝟏𝟐", new[] { "x", "𝟏", "𝟐" })] // mathematical digits are single numbers
    [InlineData("🐱𠮷🐱", new[] { "🐱", "𠮷", "🐱" })]
    public void PreTokenize_TreatsSupplementaryLettersAndNumbersByCodePoint(string text, string[] expected)
    {
        Assert.Equal(expected, Pieces(text));
    }

    [Fact]
    public void PreTokenize_EqualsRegexPreTokenizer_OnRandomBmpText()
    {
        // Where .NET's regex sees whole code points (the Basic Multilingual Plane), the library's RegexPreTokenizer with
        // the Hugging Face pattern is the reference.
        var regex = new RegexPreTokenizer(new Regex(ClipPreTokenizer.Pattern, RegexOptions.CultureInvariant), SpecialTokens);
        string[] alphabet =
        [
            "a", "b", "s", "t", "r", "e", "v", "m", "l", "d", "é", "ß", "ж", "日", "ا", "'", "''", "!", "?", ".", "-", "_",
            "<", "|", ">", "<|", "|>", "<|startoftext|>", "<|endoftext|>", "0", "9", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n",
            "\u00A0", "\u3000", "\u0301", "\u200B", "€", "😀",
        ];
        var random = new Random(42);
        for (var n = 0; n < 3000; n++)
        {
            var builder = new StringBuilder();
            var count = random.Next(0, 25);
            for (var i = 0; i < count; i++)
            {
                builder.Append(alphabet[random.Next(alphabet.Length)]);
            }

            var text = builder.ToString();
            Assert.Equal(regex.PreTokenize(text), PreTokenizer.PreTokenize(text));
        }
    }

    [Fact]
    public void PreTokenize_Span_EqualsString()
    {
        const string Text = "it's a <|endoftext|> 1 test!!";
        Assert.Equal(PreTokenizer.PreTokenize(Text), PreTokenizer.PreTokenize(Text.AsSpan()));
    }

    private static string[] Pieces(string text) =>
        [.. PreTokenizer.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length))];
}
