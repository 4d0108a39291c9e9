namespace ClipSearch.Core.Tokenization;

/// <summary>
/// Token ids of several texts, padded to the longest one: what the ONNX text model is fed
/// (<c>input_ids</c> and <c>attention_mask</c>, both int64 of shape [<see cref="Count"/>, <see cref="Length"/>]).
/// </summary>
public sealed class TokenBatch
{
    internal TokenBatch(int count, int length, long[] inputIds, long[] attentionMask, int[] lengths)
    {
        Count = count;
        Length = length;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Lengths = lengths;
    }

    /// <summary>
    /// <paramref name="rows"/> padded with <paramref name="padId"/> to the longest, or to <paramref name="length"/>
    /// (rows longer than it are cut), with the attention mask marking the real tokens.
    /// </summary>
    internal static TokenBatch Pad(int[][] rows, long padId, int? length = null)
    {
        var width = length ?? (rows.Length == 0 ? 0 : rows.Max(r => r.Length));
        var inputIds = new long[rows.Length * width];
        var attentionMask = new long[rows.Length * width];
        var lengths = new int[rows.Length];
        Array.Fill(inputIds, padId);
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i].AsSpan(0, Math.Min(rows[i].Length, width));
            lengths[i] = row.Length;
            var offset = i * width;
            for (var j = 0; j < row.Length; j++)
            {
                inputIds[offset + j] = row[j];
                attentionMask[offset + j] = 1;
            }
        }

        return new TokenBatch(rows.Length, width, inputIds, attentionMask, lengths);
    }

    /// <summary>Number of rows (texts).</summary>
    public int Count { get; }

    /// <summary>Tokens per row: the length of the longest encoded text.</summary>
    public int Length { get; }

    /// <summary>The ids, <see cref="Count"/> × <see cref="Length"/> row-major, each row padded with the pad id.</summary>
    public long[] InputIds { get; }

    /// <summary>1 for a real token, 0 for padding; same layout as <see cref="InputIds"/>.</summary>
    public long[] AttentionMask { get; }

    /// <summary>The real (unpadded) length of each row, start and end tokens included.</summary>
    public int[] Lengths { get; }
}
