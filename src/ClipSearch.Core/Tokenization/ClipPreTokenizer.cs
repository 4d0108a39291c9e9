using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ClipSearch.Core.Tokenization;

/// <summary>
/// CLIP's pre-tokenizer: special tokens are split off first, then the rest is split with
/// <c>'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>, keeping the matches and dropping whitespace.
/// </summary>
/// <remarks>
/// This does what <see cref="RegexPreTokenizer"/> with <see cref="Pattern"/> does, code point by code point. The library's
/// pre-tokenizer cannot be used as it is because .NET's <see cref="System.Text.RegularExpressions.Regex"/> works on UTF-16
/// code units: a letter or number outside the Basic Multilingual Plane (CJK Extension B such as "𠮷", mathematical
/// letters, Adlam, ...) is seen as two surrogates, which fall into <c>[^\s\p{L}\p{N}]+</c>, so "a𠮷b" would split into
/// three pieces where Hugging Face (Oniguruma on UTF-8) keeps one, and the ids would differ. On text without such
/// characters both give the same pieces (a test checks this on random text).
/// </remarks>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    /// <summary>The pattern of the Hugging Face tokenizer.json (special tokens first, as there).</summary>
    public const string Pattern =
        @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    private readonly string[] _specialTokens;

    /// <summary>Creates the pre-tokenizer; <paramref name="specialTokens"/> are split off whole, before anything else.</summary>
    public ClipPreTokenizer(IEnumerable<string> specialTokens)
    {
        ArgumentNullException.ThrowIfNull(specialTokens);
        _specialTokens = [.. specialTokens.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Split(text);
    }

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    private List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length)>();
        var position = 0;
        while (position < text.Length)
        {
            var (specialStart, specialLength) = FindSpecialToken(text, position);
            SplitOrdinary(text, position, specialStart, pieces);
            if (specialLength == 0)
            {
                break;
            }

            pieces.Add((specialStart, specialLength));
            position = specialStart + specialLength;
        }

        return pieces;
    }

    /// <summary>The leftmost special token at or after <paramref name="from"/> (the longest there), or (length, 0).</summary>
    private (int Start, int Length) FindSpecialToken(ReadOnlySpan<char> text, int from)
    {
        var bestStart = text.Length;
        var bestLength = 0;
        foreach (var token in _specialTokens)
        {
            var index = text[from..].IndexOf(token, StringComparison.Ordinal);
            if (index >= 0)
            {
                index += from;
                if (index < bestStart || (index == bestStart && token.Length > bestLength))
                {
                    bestStart = index;
                    bestLength = token.Length;
                }
            }
        }

        return (bestStart, bestLength);
    }

    /// <summary>Applies the CLIP pattern (without its special-token alternatives) to text[start..end).</summary>
    private static void SplitOrdinary(ReadOnlySpan<char> text, int start, int end, List<(int Offset, int Length)> pieces)
    {
        var i = start;
        while (i < end)
        {
            // 's 't 're 've 'm 'll 'd (tried first, as in the pattern).
            if (text[i] == '\'' && i + 1 < end)
            {
                var contraction = ContractionLength(text[(i + 1)..end]);
                if (contraction > 0)
                {
                    pieces.Add((i, contraction + 1));
                    i += contraction + 1;
                    continue;
                }
            }

            var kind = Classify(text[i..end], out var length);
            switch (kind)
            {
                case CharKind.WhiteSpace:
                    i += length;
                    break;
                case CharKind.Number:
                    pieces.Add((i, length));
                    i += length;
                    break;
                default:
                    var pieceStart = i;
                    i += length;
                    while (i < end && Classify(text[i..end], out length) == kind)
                    {
                        i += length;
                    }

                    pieces.Add((pieceStart, i - pieceStart));
                    break;
            }
        }
    }

    private static int ContractionLength(ReadOnlySpan<char> after) => after switch
    {
        ['s' or 't' or 'm' or 'd', ..] => 1,
        ['r' or 'v', 'e', ..] => 2,
        ['l', 'l', ..] => 2,
        _ => 0,
    };

    private static CharKind Classify(ReadOnlySpan<char> text, out int length)
    {
        if (Rune.DecodeFromUtf16(text, out var rune, out length) != OperationStatus.Done)
        {
            // A lone surrogate is neither a letter, a number nor whitespace.
            length = 1;
            return CharKind.Other;
        }

        if (Rune.IsLetter(rune))
        {
            return CharKind.Letter;
        }

        if (Rune.IsNumber(rune))
        {
            return CharKind.Number;
        }

        return Rune.IsWhiteSpace(rune) ? CharKind.WhiteSpace : CharKind.Other;
    }

    private enum CharKind
    {
        Letter,
        Number,
        WhiteSpace,
        Other,
    }
}
