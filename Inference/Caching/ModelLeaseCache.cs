using System.Diagnostics.CodeAnalysis;

namespace MlPlatform.Inference.Caching;

/// <summary>An entry the cache closed because it was the least recently used one beyond its capacity.</summary>
/// <param name="Count">Unpinned loaded entries when it was chosen, this one included.</param>
public readonly record struct ModelEviction<TKey, TValue>(TKey Key, TValue Value, int Count, int Capacity);

/// <summary>
/// Loaded models shared by concurrent users, both scorers' one copy of it: a key is loaded once however many callers ask for it at the
/// same time, every use holds a <see cref="Lease"/>, and an entry is disposed only once it has left the cache (evicted or removed)
/// and its last lease is released. Beyond <c>capacity</c> loaded unpinned entries, the least recently leased idle one is evicted; a
/// leased or pinned entry never is. A failed load is not cached: every caller waiting on it gets the exception, the next one loads again.
/// </summary>
/// <remarks>
/// Values are disposed through <see cref="IAsyncDisposable"/> (not awaited) or <see cref="IDisposable"/>. Loads are not tied to any
/// caller's token: a load a cancelled caller started still serves the next one.
/// </remarks>
public sealed class ModelLeaseCache<TKey, TValue> : IDisposable where TKey : notnull where TValue : class
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, Entry> _entries;
    private readonly Func<TKey, Task<TValue>>? _load;
    private readonly Action<ModelEviction<TKey, TValue>>? _evicted;
    private long _clock;
    private bool _disposed;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="load">Loads one key for <see cref="AcquireAsync(TKey, CancellationToken)"/>; called once per key at a time.</param>
    /// <param name="capacity">Most loaded, unpinned entries kept once idle.</param>
    /// <param name="evicted">Told of every eviction (after the entry left the cache; it is disposed once its leases are released).</param>
    /// <param name="comparer">Key comparer, or the default one.</param>
    public ModelLeaseCache(Func<TKey, Task<TValue>>? load, int capacity, Action<ModelEviction<TKey, TValue>>? evicted = null,
        IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _load = load;
        Capacity = capacity;
        _evicted = evicted;
        _entries = new Dictionary<TKey, Entry>(comparer);
    }

    /// <summary>Most loaded, unpinned entries kept once idle.</summary>
    public int Capacity { get; }

    /// <summary>Entries loaded and in the cache (pinned or not).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                var count = 0;
                foreach (var entry in _entries.Values)
                {
                    count += entry.IsLoaded ? 1 : 0;
                }
                return count;
            }
        }
    }

    /// <summary>Leases <paramref name="key"/>, loading it first unless it is loaded or being loaded.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first (the load goes on).</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <remarks>Any exception of the loader is rethrown to every caller waiting on that load.</remarks>
    public Task<Lease> AcquireAsync(TKey key, CancellationToken cancellationToken) =>
        AcquireAsync(key, _load ?? throw new InvalidOperationException("This cache has no default loader; pass one."), cancellationToken);

    /// <summary>Leases <paramref name="key"/>, loading it with <paramref name="load"/> unless it is loaded or being loaded.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first (the load goes on).</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <remarks>Any exception of the loader is rethrown to every caller waiting on that load.</remarks>
    public async Task<Lease> AcquireAsync(TKey key, Func<TKey, Task<TValue>> load, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(load);
        Entry entry;
        var start = false;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry(key);
                _entries[key] = entry;
                start = true;
            }
            Hold(entry);
            if (entry.IsLoaded)
            {
                return new Lease(this, entry);
            }
        }
        if (start)
        {
            _ = LoadAsync(entry, load);
        }
        try
        {
            await entry.Completion.Task.WaitAsync(cancellationToken);
            return new Lease(this, entry);
        }
        catch
        {
            Release(entry);
            throw;
        }
    }

    /// <summary>Leases <paramref name="key"/> if it is loaded, without loading it.</summary>
    public bool TryAcquire(TKey key, [NotNullWhen(true)] out Lease? lease)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.IsLoaded)
            {
                Hold(entry);
                lease = new Lease(this, entry);
                return true;
            }
        }
        lease = null;
        return false;
    }

    /// <summary>The loaded value of <paramref name="key"/>, without leasing it (it may be disposed once the caller reads it).</summary>
    public bool TryPeek(TKey key, [NotNullWhen(true)] out TValue? value)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry) && entry.IsLoaded)
            {
                value = entry.Value!;
                return true;
            }
        }
        value = null;
        return false;
    }

    /// <summary>Loaded entries, for callers that update or remove several at once.</summary>
    public IReadOnlyList<KeyValuePair<TKey, TValue>> Snapshot()
    {
        lock (_gate)
        {
            var loaded = new List<KeyValuePair<TKey, TValue>>(_entries.Count);
            foreach (var entry in _entries.Values)
            {
                if (entry.IsLoaded)
                {
                    loaded.Add(new(entry.Key, entry.Value!));
                }
            }
            return loaded;
        }
    }

    /// <summary>
    /// Pins or unpins <paramref name="key"/> (no effect when it is not in the cache): a pinned entry is neither counted against the
    /// capacity nor evicted. Unpinning may evict.
    /// </summary>
    public void SetPinned(TKey key, bool pinned)
    {
        List<ModelEviction<TKey, TValue>>? evicted = null;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry))
            {
                entry.Pinned = pinned;
                evicted = EvictBeyondCapacity();
            }
        }
        Report(evicted);
    }

    /// <summary>Takes <paramref name="key"/> out of the cache: no new leases; disposed once its leases are released.</summary>
    /// <param name="key">The key.</param>
    /// <param name="only">When given, the entry is removed only if it is loaded with this very value (not a newer load of the key).</param>
    /// <returns>Whether an entry was removed.</returns>
    public bool Remove(TKey key, TValue? only = null)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var entry) || only is not null && !(entry.IsLoaded && ReferenceEquals(entry.Value, only)))
            {
                return false;
            }
            _entries.Remove(key);
            Detach(entry);
            return true;
        }
    }

    /// <summary>Removes every entry; each is disposed once its leases are released.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var entry in _entries.Values)
            {
                Detach(entry);
            }
            _entries.Clear();
        }
    }

    private async Task LoadAsync(Entry entry, Func<TKey, Task<TValue>> load)
    {
        TValue value;
        try
        {
            // Off the caller's thread: a loader that does synchronous work before its first await must not block the first caller alone.
            value = await Task.Run(() => load(entry.Key));
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                if (_entries.TryGetValue(entry.Key, out var current) && current == entry)
                {
                    _entries.Remove(entry.Key);
                }
                entry.Detached = true;
            }
            entry.Completion.TrySetException(ex);
            return;
        }
        bool dispose;
        lock (_gate)
        {
            entry.Value = value;
            entry.IsLoaded = !entry.Detached;
            // Removed while loading and every waiter gave up: nobody will ever release it.
            dispose = entry.Detached && entry.Holders == 0;
        }
        entry.Completion.TrySetResult();
        if (dispose)
        {
            DisposeValue(value);
        }
    }

    private void Hold(Entry entry)
    {
        entry.Holders++;
        entry.LastUsed = ++_clock;
    }

    private void Release(Entry entry)
    {
        List<ModelEviction<TKey, TValue>>? evicted;
        TValue? dispose = null;
        lock (_gate)
        {
            entry.Holders--;
            if (entry.Detached && entry.Holders == 0 && entry.Completion.Task.IsCompletedSuccessfully)
            {
                dispose = entry.Value;
                entry.Value = null;
            }
            evicted = EvictBeyondCapacity();
        }
        if (dispose is not null)
        {
            DisposeValue(dispose);
        }
        Report(evicted);
    }

    /// <summary>Called under the gate: evicts least recently used idle, unpinned, loaded entries while there are more loaded unpinned ones than the capacity.</summary>
    private List<ModelEviction<TKey, TValue>>? EvictBeyondCapacity()
    {
        List<ModelEviction<TKey, TValue>>? evicted = null;
        while (true)
        {
            Entry? victim = null;
            var counted = 0;
            foreach (var entry in _entries.Values)
            {
                if (!entry.IsLoaded || entry.Pinned)
                {
                    continue;
                }
                counted++;
                if (entry.Holders == 0 && (victim is null || entry.LastUsed < victim.LastUsed))
                {
                    victim = entry;
                }
            }
            if (counted <= Capacity || victim is null)
            {
                return evicted;
            }
            _entries.Remove(victim.Key);
            var value = victim.Value!;
            Detach(victim);
            (evicted ??= []).Add(new(victim.Key, value, counted, Capacity));
        }
    }

    /// <summary>Called under the gate, with the entry already out of the dictionary.</summary>
    private void Detach(Entry entry)
    {
        if (entry.Detached)
        {
            return;
        }
        entry.Detached = true;
        entry.IsLoaded = false;
        if (entry.Holders == 0 && entry.Value is { } value)
        {
            entry.Value = null;
            // Outside any await: disposal of an ONNX session is synchronous and quick; async disposers are not awaited.
            DisposeValue(value);
        }
    }

    private void Report(List<ModelEviction<TKey, TValue>>? evicted)
    {
        if (evicted is null || _evicted is null)
        {
            return;
        }
        foreach (var eviction in evicted)
        {
            _evicted(eviction);
        }
    }

    private static void DisposeValue(TValue value)
    {
        switch (value)
        {
            case IAsyncDisposable asyncDisposable:
                _ = asyncDisposable.DisposeAsync().AsTask();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    internal sealed class Entry(TKey key)
    {
        public TKey Key { get; } = key;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TValue? Value { get; set; }

        public bool IsLoaded { get; set; }

        public bool Detached { get; set; }

        public bool Pinned { get; set; }

        public int Holders { get; set; }

        public long LastUsed { get; set; }
    }

    /// <summary>One use of a loaded value; dispose it (once or more) to release it.</summary>
    public sealed class Lease : IDisposable
    {
        private ModelLeaseCache<TKey, TValue>? _owner;
        private readonly Entry _entry;

        internal Lease(ModelLeaseCache<TKey, TValue> owner, Entry entry)
        {
            _owner = owner;
            _entry = entry;
            Key = entry.Key;
            Value = entry.Value!;
        }

        /// <summary>The key leased.</summary>
        public TKey Key { get; }

        /// <summary>The loaded value, valid until the lease is disposed.</summary>
        public TValue Value { get; }

        /// <summary>Releases the lease; the entry may be evicted or disposed from now on.</summary>
        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release(_entry);
    }
}
