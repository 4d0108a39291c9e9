using System.Buffers;
using System.Text;

namespace ClipSearch.Core.Tokenization;

/// <summary>
/// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical composition).
/// </summary>
/// <remarks>
/// This exists because the project runs with <c>InvariantGlobalization</c>: there <see cref="string.Normalize()"/> and
/// <see cref="string.IsNormalized()"/> do nothing for non-ASCII text (no ICU is loaded), and Microsoft.ML.Tokenizers has
/// no NFC normalizer of its own. The Hugging Face CLIP tokenizer starts with NFC, so a decomposed "e" + U+0301 must
/// become "é" before byte-level BPE or the ids differ. The tables are in UnicodeNfcData.cs (generated).
/// </remarks>
internal static partial class UnicodeNfc
{
    private const int HangulSBase = 0xAC00;
    private const int HangulLBase = 0x1100;
    private const int HangulVBase = 0x1161;
    private const int HangulTBase = 0x11A7;
    private const int HangulLCount = 19;
    private const int HangulVCount = 21;
    private const int HangulTCount = 28;
    private const int HangulNCount = HangulVCount * HangulTCount;
    private const int HangulSCount = HangulLCount * HangulNCount;

    /// <summary>
    /// Text made only of characters below this code point is already NFC: they are all starters, each is its own NFC
    /// form (Latin-1 letters such as "À" are primary composites), and no two of them compose.
    /// </summary>
    private const int QuickCheckLimit = 0x300;

    /// <summary>The first code point with a canonical decomposition (U+00C0, "À").</summary>
    private const int FirstDecomposable = 0xC0;

    private static readonly Tables LookupTables = new();

    /// <summary>Returns the NFC form of <paramref name="text"/> (the same instance when it is already NFC for sure).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var i = 0;
        while (i < text.Length && text[i] < QuickCheckLimit)
        {
            i++;
        }

        if (i == text.Length)
        {
            return text;
        }

        // Everything before i stays as it is, except that the character just before i (a starter) may compose with
        // what follows, so the work starts there.
        var start = Math.Max(0, i - 1);
        var buffer = ArrayPool<int>.Shared.Rent(Math.Max(16, (text.Length - start) * 2));
        try
        {
            var count = Decompose(text.AsSpan(start), ref buffer);
            SortCanonically(buffer.AsSpan(0, count));
            count = Compose(buffer.AsSpan(0, count));

            var sb = new StringBuilder(text.Length);
            sb.Append(text, 0, start);
            foreach (var cp in buffer.AsSpan(0, count))
            {
                AppendCodePoint(sb, cp);
            }

            return sb.ToString();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(buffer);
        }
    }

    /// <summary>The canonical combining class of a code point (0 for starters and unassigned code points).</summary>
    public static int CombiningClass(int codePoint) => LookupTables.CombiningClass(codePoint);

    private static int Decompose(ReadOnlySpan<char> text, ref int[] buffer)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            // A lone surrogate stays as it is (a starter with no mappings).
            if (count + 4 > buffer.Length)
            {
                Grow(ref buffer, count + 4);
            }

            var s = cp - HangulSBase;
            if (s is >= 0 and < HangulSCount)
            {
                buffer[count++] = HangulLBase + (s / HangulNCount);
                buffer[count++] = HangulVBase + (s % HangulNCount / HangulTCount);
                if (s % HangulTCount != 0)
                {
                    buffer[count++] = HangulTBase + (s % HangulTCount);
                }
            }
            else if (cp >= FirstDecomposable && LookupTables.FullDecompositions.TryGetValue(cp, out var full))
            {
                if (count + full.Length > buffer.Length)
                {
                    Grow(ref buffer, count + full.Length);
                }

                full.CopyTo(buffer, count);
                count += full.Length;
            }
            else
            {
                buffer[count++] = cp;
            }
        }

        return count;
    }

    private static void Grow(ref int[] buffer, int needed)
    {
        var bigger = ArrayPool<int>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
        buffer.AsSpan().CopyTo(bigger);
        ArrayPool<int>.Shared.Return(buffer);
        buffer = bigger;
    }

    /// <summary>Stable-sorts each run of non-starters by combining class (the canonical ordering algorithm).</summary>
    private static void SortCanonically(Span<int> cps)
    {
        var i = 0;
        while (i < cps.Length)
        {
            if (LookupTables.CombiningClass(cps[i]) == 0)
            {
                i++;
                continue;
            }

            var runStart = i;
            while (i < cps.Length && LookupTables.CombiningClass(cps[i]) != 0)
            {
                i++;
            }

            SortRun(cps[runStart..i]);
        }
    }

    private static void SortRun(Span<int> run)
    {
        if (run.Length < 2)
        {
            return;
        }

        if (run.Length <= 32)
        {
            // Insertion sort: stable, and runs of combining marks are short in real text.
            for (var j = 1; j < run.Length; j++)
            {
                var cp = run[j];
                var cc = LookupTables.CombiningClass(cp);
                var k = j - 1;
                while (k >= 0 && LookupTables.CombiningClass(run[k]) > cc)
                {
                    run[k + 1] = run[k];
                    k--;
                }

                run[k + 1] = cp;
            }

            return;
        }

        // Long runs (hostile input): sort (class, position) keys so the cost stays n log n and the order stable.
        var keys = new long[run.Length];
        for (var j = 0; j < run.Length; j++)
        {
            keys[j] = ((long)LookupTables.CombiningClass(run[j]) << 32) | (uint)j;
        }

        var copy = run.ToArray();
        Array.Sort(keys);
        for (var j = 0; j < run.Length; j++)
        {
            run[j] = copy[(int)(keys[j] & 0xFFFFFFFF)];
        }
    }

    /// <summary>The canonical composition algorithm, in place; returns the new length.</summary>
    private static int Compose(Span<int> cps)
    {
        var starter = -1;
        var lastClass = -1;
        var count = 0;
        foreach (var cp in cps)
        {
            var cc = LookupTables.CombiningClass(cp);
            if (starter >= 0)
            {
                // cp is not blocked from the starter when it follows the starter directly, or when every character
                // between them has a lower, non-zero combining class (the last one has the highest: they are sorted).
                var adjacent = count - 1 == starter;
                if ((adjacent || (lastClass != 0 && lastClass < cc)) && TryCompose(cps[starter], cp, out var composite))
                {
                    cps[starter] = composite;
                    continue;
                }
            }

            if (cc == 0)
            {
                starter = count;
            }

            cps[count++] = cp;
            lastClass = cc;
        }

        return count;
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        var l = first - HangulLBase;
        if (l is >= 0 and < HangulLCount)
        {
            var v = second - HangulVBase;
            if (v is >= 0 and < HangulVCount)
            {
                composite = HangulSBase + (((l * HangulVCount) + v) * HangulTCount);
                return true;
            }
        }

        var s = first - HangulSBase;
        if (s is >= 0 and < HangulSCount && s % HangulTCount == 0)
        {
            var t = second - HangulTBase;
            if (t is > 0 and < HangulTCount)
            {
                composite = first + t;
                return true;
            }
        }

        return LookupTables.Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private static void AppendCodePoint(StringBuilder sb, int cp)
    {
        if (cp < 0x10000)
        {
            sb.Append((char)cp);
        }
        else
        {
            cp -= 0x10000;
            sb.Append((char)(0xD800 + (cp >> 10)));
            sb.Append((char)(0xDC00 + (cp & 0x3FF)));
        }
    }

    /// <summary>The lookup structures, built once from the generated tables.</summary>
    private sealed class Tables
    {
        private readonly byte[] _bmpClasses = new byte[0x10000];
        private readonly Dictionary<int, byte> _supplementaryClasses = [];

        public Tables()
        {
            var ranges = CombiningClassRanges;
            for (var i = 0; i < ranges.Length; i += 3)
            {
                for (var cp = ranges[i]; cp <= ranges[i + 1]; cp++)
                {
                    if (cp < 0x10000)
                    {
                        _bmpClasses[cp] = (byte)ranges[i + 2];
                    }
                    else
                    {
                        _supplementaryClasses[cp] = (byte)ranges[i + 2];
                    }
                }
            }

            var data = Decompositions;
            var single = new Dictionary<int, (int First, int Second)>(data.Length / 4);
            for (var i = 0; i < data.Length; i += 4)
            {
                single[data[i]] = (data[i + 1], data[i + 2]);
                if (data[i + 3] != 0)
                {
                    Compositions[((long)data[i + 1] << 21) | (uint)data[i + 2]] = data[i];
                }
            }

            var expanded = new List<int>(4);
            foreach (var cp in single.Keys)
            {
                expanded.Clear();
                Expand(cp, single, expanded);
                FullDecompositions[cp] = [.. expanded];
            }
        }

        /// <summary>Code point to its full (recursive) canonical decomposition.</summary>
        public Dictionary<int, int[]> FullDecompositions { get; } = [];

        /// <summary>(first &lt;&lt; 21 | second) to the primary composite (composition exclusions left out).</summary>
        public Dictionary<long, int> Compositions { get; } = [];

        public int CombiningClass(int cp) =>
            cp < 0x10000 ? _bmpClasses[cp] : _supplementaryClasses.TryGetValue(cp, out var cc) ? cc : 0;

        private static void Expand(int cp, Dictionary<int, (int First, int Second)> single, List<int> output)
        {
            if (!single.TryGetValue(cp, out var d))
            {
                output.Add(cp);
                return;
            }

            Expand(d.First, single, output);
            if (d.Second != 0)
            {
                Expand(d.Second, single, output);
            }
        }
    }
}
