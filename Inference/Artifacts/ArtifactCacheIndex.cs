namespace MlPlatform.Inference.Artifacts;

/// <summary>
/// The bookkeeping of <see cref="ArtifactCache"/>'s bound: the size, last use and pins of every artifact on disk, and which ones to delete
/// (least recently used first, never a pinned one) to bring the total under the bound.
/// </summary>
public sealed class ArtifactCacheIndex(long maxBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _clock;
    private long _total;

    /// <summary>Whether the artifacts found on disk at start have been counted.</summary>
    public bool Seeded { get; private set; }

    /// <summary>Bytes of all artifacts counted.</summary>
    public long TotalBytes => Interlocked.Read(ref _total);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Counts the artifacts on disk, oldest first; true if this call did it (once per process).</summary>
    public bool Seed(IEnumerable<(string Sha256, long Bytes)> files)
    {
        lock (_lock)
        {
            if (Seeded)
            {
                return false;
            }
            foreach (var (sha256, bytes) in files)
            {
                TouchLocked(sha256, bytes);
            }
            Seeded = true;
            return true;
        }
    }

    /// <summary>Records a use of <paramref name="sha256"/>, which is on disk with <paramref name="bytes"/>.</summary>
    public void Touch(string sha256, long bytes)
    {
        lock (_lock)
        {
            TouchLocked(sha256, bytes);
        }
    }

    /// <summary>Keeps <paramref name="sha256"/> from eviction until the returned pin is disposed (it need not be on disk yet).</summary>
    public IDisposable Pin(string sha256)
    {
        lock (_lock)
        {
            Get(sha256).Pins++;
        }
        return new PinHandle(this, sha256);
    }

    /// <summary>Removes and returns the artifacts to delete, least recently used first, until the total is within the bound.</summary>
    public IReadOnlyList<string> TakeEvictable()
    {
        lock (_lock)
        {
            if (_total <= maxBytes)
            {
                return [];
            }
            var evicted = new List<string>();
            foreach (var (sha256, entry) in _entries.Where(e => e.Value.Pins == 0 && e.Value.Bytes > 0).OrderBy(e => e.Value.LastUse).ToList())
            {
                if (_total <= maxBytes)
                {
                    break;
                }
                _entries.Remove(sha256);
                _total -= entry.Bytes;
                evicted.Add(sha256);
            }
            return evicted;
        }
    }

    private void TouchLocked(string sha256, long bytes)
    {
        var entry = Get(sha256);
        _total += bytes - entry.Bytes;
        entry.Bytes = bytes;
        entry.LastUse = ++_clock;
    }

    private Entry Get(string sha256)
    {
        if (!_entries.TryGetValue(sha256, out var entry))
        {
            _entries[sha256] = entry = new Entry { LastUse = ++_clock };
        }
        return entry;
    }

    private void Unpin(string sha256)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(sha256, out var entry))
            {
                entry.Pins--;
                // A pin taken for an artifact that never reached the disk leaves nothing to count.
                if (entry.Pins == 0 && entry.Bytes == 0)
                {
                    _entries.Remove(sha256);
                }
            }
        }
    }

    private sealed class Entry
    {
        public long Bytes;
        public long LastUse;
        public int Pins;
    }

    private sealed class PinHandle(ArtifactCacheIndex index, string sha256) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                index.Unpin(sha256);
            }
        }
    }
}
