using ClipSearch.Core.Tokenization;

namespace ClipSearch.Core.Tests.Tokenization;

public sealed class ClipNormalizerTests
{
    [Theory]
    [InlineData("a photo of a cat", "a photo of a cat")]
    [InlineData("A PHOTO Of A Cat", "a photo of a cat")]
    [InlineData("  a   photo\tof\na cat  ", " a photo of a cat ")]
    [InlineData("\u00A0non\u00A0breaking\u2003\u3000spaces\r\n", " non breaking spaces ")]
    [InlineData("x\u0085y\u2028z\u2029w", "x y z w")]
    [InlineData("x\u200By", "x\u200By")] // zero-width space is not whitespace (Unicode White_Space)
    [InlineData("STRASSE straße", "strasse straße")]
    [InlineData("ΣΟΦΟΣ", "σοφοσ")] // per character, no final-sigma rule (as Rust's char::to_lowercase)
    [InlineData("İstanbul", "i\u0307stanbul")] // Rust maps U+0130 to i + U+0307; .NET's invariant ToLower does not
    [InlineData("𐐀𐐁", "𐐨𐐩")] // Deseret: supplementary-plane case pairs
    [InlineData("ÀÉÎ", "àéî")]
    public void Normalize_CollapsesWhitespaceAndLowercases(string text, string expected)
    {
        Assert.Equal(expected, ClipNormalizer.Instance.Normalize(text));
        Assert.Equal(expected, ClipNormalizer.Instance.Normalize(text.AsSpan()));
    }

    [Theory]
    [InlineData("cafe\u0301", "café")]
    [InlineData("\u212B", "\u00E5")] // ANGSTROM SIGN -> A with ring (singleton), then lowercased
    [InlineData("\u1100\u1161\u11A8", "\uAC01")] // Hangul jamo L V T -> syllable
    [InlineData("\uAC00\u11A8", "\uAC01")] // Hangul LV + T
    [InlineData("a\u0323\u0302", "\u1EAD")] // a + dot below + circumflex -> ậ
    [InlineData("a\u0302\u0323", "\u1EAD")] // same marks in the other order: canonical ordering first
    [InlineData("\u1E0B\u0323", "\u1E0D\u0307")] // ḋ + dot below -> ḍ + dot above
    [InlineData("\u0344", "\u0308\u0301")] // excluded composite stays decomposed
    [InlineData("e\u0301\u0301", "\u00E9\u0301")] // the second acute is blocked
    [InlineData("\u0301a", "\u0301a")] // a leading mark has no starter to join
    public void Normalize_AppliesNfc(string text, string expected)
    {
        Assert.Equal(expected, ClipNormalizer.Instance.Normalize(text));
    }

    [Fact]
    public void Normalize_LoneSurrogates_BecomeReplacementCharacters()
    {
        Assert.Equal("e\uFFFD\u00E9\uFFFD", ClipNormalizer.Instance.Normalize("e\uD800e\u0301\uDC00"));
    }
}
