using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ClipSearch.Core.Tokenization;

/// <summary>
/// The normalizer of the Hugging Face CLIP tokenizer: NFC, then every run of whitespace replaced by one space, then
/// lowercase. Leading and trailing whitespace is not stripped (Hugging Face does not either; the pre-tokenizer drops
/// whitespace, so it makes no difference to the ids).
/// </summary>
/// <remarks>
/// Written instead of composing library pieces because Hugging Face lowercases each character with Rust's <c>char::to_lowercase</c>, which
/// maps U+0130 "İ" to "i̇" (i + U+0307) while .NET's invariant lowercasing leaves it unchanged; everything else is the
/// plain Unicode simple lowercase mapping, which <see cref="Rune.ToLowerInvariant"/> gives. Whitespace is the Unicode
/// White_Space set (what <c>\s</c> matches in both Oniguruma and .NET), i.e. <see cref="Rune.IsWhiteSpace"/>.
/// </remarks>
internal sealed class ClipNormalizer : Normalizer
{
    /// <summary>The shared instance (the normalizer has no state).</summary>
    public static ClipNormalizer Instance { get; } = new();

    /// <inheritdoc />
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (IsAsciiAndAlreadyNormal(original))
        {
            return original;
        }

        return CollapseWhitespaceAndLowercase(Nfc(original));
    }

    /// <summary>
    /// NFC through ICU. A lone surrogate (which a Rust or Python string cannot hold, so the reference never sees one)
    /// becomes U+FFFD instead of failing the whole text.
    /// </summary>
    private static string Nfc(string text)
    {
        try
        {
            return text.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            var builder = new StringBuilder(text.Length);
            foreach (var rune in text.EnumerateRunes())
            {
                builder.Append(rune.ToString()); // EnumerateRunes yields U+FFFD for each lone surrogate
            }

            return builder.ToString().Normalize(NormalizationForm.FormC);
        }
    }

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());

    /// <summary>True for ASCII text with no uppercase letter and no whitespace other than single spaces.</summary>
    private static bool IsAsciiAndAlreadyNormal(string text)
    {
        var previousWasSpace = false;
        foreach (var c in text)
        {
            if (c > 0x7F || char.IsAsciiLetterUpper(c))
            {
                return false;
            }

            var isWhiteSpace = c is ' ' or (>= '\t' and <= '\r');
            if (isWhiteSpace && (c != ' ' || previousWasSpace))
            {
                return false;
            }

            previousWasSpace = isWhiteSpace;
        }

        return true;
    }

    private static string CollapseWhitespaceAndLowercase(string text)
    {
        var sb = new StringBuilder(text.Length);
        Span<char> utf16 = stackalloc char[2];
        var previousWasSpace = false;
        var i = 0;
        while (i < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var length) != OperationStatus.Done)
            {
                // A lone surrogate: keep it as it is (it is neither whitespace nor a cased letter).
                sb.Append(text[i]);
                i++;
                previousWasSpace = false;
                continue;
            }

            i += length;
            if (Rune.IsWhiteSpace(rune))
            {
                if (!previousWasSpace)
                {
                    sb.Append(' ');
                }

                previousWasSpace = true;
                continue;
            }

            previousWasSpace = false;
            if (rune.Value == 0x130)
            {
                sb.Append("i\u0307");
            }
            else if (rune.IsAscii)
            {
                sb.Append(char.ToLowerInvariant((char)rune.Value));
            }
            else
            {
                var written = Rune.ToLowerInvariant(rune).EncodeToUtf16(utf16);
                sb.Append(utf16[..written]);
            }
        }

        return sb.ToString();
    }
}
