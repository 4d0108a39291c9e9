namespace ClipSearch.Core.Similarity;

/// <summary>
/// A thread-safe cache bounded by bytes: every entry has a size (given by the caller), and adding one evicts the
/// least recently used entries until the total is within <see cref="CapacityBytes"/>. An entry larger than the
/// whole capacity is not kept. Eviction happens inside <see cref="Set"/>, so the bound holds at every moment
/// (Microsoft.Extensions.Caching.Memory, by contrast, refuses new entries when full and compacts later, on another
/// thread).
/// </summary>
/// <typeparam name="TKey">The key.</typeparam>
/// <typeparam name="TValue">The value.</typeparam>
public sealed class LruByteCache<TKey, TValue>
    where TKey : notnull
{
    private readonly object _lock = new();
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _map;
    private readonly LinkedList<Entry> _order = new();   // most recently used first
    private long _bytes;
    private long _evictions;

    /// <summary>A cache holding at most <paramref name="capacityBytes"/>.</summary>
    public LruByteCache(long capacityBytes, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
        _map = new Dictionary<TKey, LinkedListNode<Entry>>(comparer);
    }

    /// <summary>The most bytes held.</summary>
    public long CapacityBytes { get; }

    /// <summary>Bytes held now (the sum of the entries' sizes).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Entries evicted so far to make room.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>The value of <paramref name="key"/>, which becomes the most recently used.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        value = default!;
        return false;
    }

    /// <summary>
    /// The values of every one of <paramref name="keys"/>, read at once (no eviction can come in between), each
    /// becoming the most recently used; null, with the recency unchanged, when any of them is not held.
    /// </summary>
    public TValue[]? TryGetAll(IReadOnlyList<TKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var nodes = new LinkedListNode<Entry>[keys.Count];
        lock (_lock)
        {
            for (var i = 0; i < keys.Count; i++)
            {
                if (!_map.TryGetValue(keys[i], out var node))
                {
                    return null;
                }

                nodes[i] = node;
            }

            foreach (var node in nodes)
            {
                _order.Remove(node);
                _order.AddFirst(node);
            }
        }

        return [.. nodes.Select(n => n.Value.Value)];
    }

    /// <summary>Whether <paramref name="key"/> is held (its recency unchanged).</summary>
    public bool Contains(TKey key)
    {
        lock (_lock)
        {
            return _map.ContainsKey(key);
        }
    }

    /// <summary>
    /// Adds or replaces <paramref name="key"/> as the most recently used entry, evicting the least recently used
    /// ones beyond the capacity. Returns false (and keeps nothing) when <paramref name="bytes"/> alone is over it.
    /// </summary>
    public bool Set(TKey key, TValue value, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            if (_map.Remove(key, out var old))
            {
                _order.Remove(old);
                _bytes -= old.Value.Bytes;
            }

            if (bytes > CapacityBytes)
            {
                return false;
            }

            while (_bytes + bytes > CapacityBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                _bytes -= last.Value.Bytes;
                _evictions++;
            }

            _map[key] = _order.AddFirst(new Entry(key, value, bytes));
            _bytes += bytes;
            return true;
        }
    }

    private sealed record Entry(TKey Key, TValue Value, long Bytes);
}
