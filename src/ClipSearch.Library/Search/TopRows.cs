namespace ClipSearch.Library.Search;

/// <summary>
/// The best k rows offered, by score (ties: the lower row first), in a min-heap over two arrays: nothing is allocated
/// per offer, and the code is ClipSearch's own, so the first search of a process runs no generic collection code
/// that has to be compiled for it first (<see cref="ScanKernel"/> says why that matters).
/// </summary>
internal sealed class TopRows
{
    private readonly int _k;
    private readonly int[] _rows;
    private readonly float[] _scores;
    private int _count;

    /// <summary>Keeps the best <paramref name="k"/> (at least 1).</summary>
    public TopRows(int k)
    {
        _k = Math.Max(1, k);
        _rows = new int[_k];
        _scores = new float[_k];
    }

    /// <summary>The score a row must beat to be kept: the worst kept once k are, else −∞.</summary>
    public float Worst => _count < _k ? float.NegativeInfinity : _scores[0];

    /// <summary>Keeps <paramref name="row"/> when it is among the best k so far.</summary>
    public void Offer(int row, float score)
    {
        if (_count < _k)
        {
            _rows[_count] = row;
            _scores[_count] = score;
            SiftUp(_count++);
        }
        else if (Better(score, row, _scores[0], _rows[0]))
        {
            _rows[0] = row;
            _scores[0] = score;
            SiftDown(0);
        }
    }

    /// <summary>The rows kept, best first; the heap is empty afterwards.</summary>
    public VectorRowHit[] Drain()
    {
        var best = new VectorRowHit[_count];
        for (var n = _count - 1; n >= 0; n--)
        {
            best[n] = new VectorRowHit(_rows[0], 0, _scores[0]);
            _count--;
            _rows[0] = _rows[_count];
            _scores[0] = _scores[_count];
            SiftDown(0);
        }

        return best;
    }

    /// <summary>The best <paramref name="k"/> of <paramref name="lists"/>, each best first, best first.</summary>
    public static VectorRowHit[] Merge(VectorRowHit[][] lists, int k)
    {
        var total = 0;
        foreach (var list in lists)
        {
            total += list.Length;
        }

        var merged = new VectorRowHit[Math.Min(k, total)];
        var next = new int[lists.Length];
        for (var n = 0; n < merged.Length; n++)
        {
            var from = -1;
            for (var l = 0; l < lists.Length; l++)
            {
                if (next[l] < lists[l].Length
                    && (from < 0 || Better(lists[l][next[l]].Score, lists[l][next[l]].Row, lists[from][next[from]].Score, lists[from][next[from]].Row)))
                {
                    from = l;
                }
            }

            merged[n] = lists[from][next[from]++];
        }

        return merged;
    }

    private static bool Better(float score, int row, float otherScore, int otherRow) =>
        score > otherScore || (score == otherScore && row < otherRow);

    // The root is the worst kept: no node is better than its parent.
    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Better(_scores[parent], _rows[parent], _scores[i], _rows[i]))
            {
                break;
            }

            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var worse = (2 * i) + 1;
            if (worse >= _count)
            {
                return;
            }

            var right = worse + 1;
            if (right < _count && Better(_scores[worse], _rows[worse], _scores[right], _rows[right]))
            {
                worse = right;
            }

            if (!Better(_scores[i], _rows[i], _scores[worse], _rows[worse]))
            {
                return;
            }

            Swap(i, worse);
            i = worse;
        }
    }

    private void Swap(int a, int b)
    {
        (_rows[a], _rows[b]) = (_rows[b], _rows[a]);
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
    }
}
