using MlPlatform.Inference.Caching;

namespace MlPlatform.UnitTests.Inference;

/// <summary>The lease cache both scorers keep their loaded models in, with a loader the test controls.</summary>
public sealed class ModelLeaseCacheTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private sealed class Loaded(string key, int generation) : IDisposable
    {
        public string Key { get; } = key;

        public int Generation { get; } = generation;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = Disposed ? throw new InvalidOperationException($"{Key} disposed twice.") : true;
    }

    /// <summary>Counts loads per key; a load waits for <see cref="Gate"/> when one is set.</summary>
    private sealed class Loader
    {
        private readonly Dictionary<string, int> _loads = [];

        public TaskCompletionSource? Gate { get; set; }

        public Exception? Failure { get; set; }

        public List<ModelEviction<string, Loaded>> Evictions { get; } = [];

        public int LoadsOf(string key)
        {
            lock (_loads)
            {
                return _loads.GetValueOrDefault(key);
            }
        }

        public async Task<Loaded> LoadAsync(string key)
        {
            int generation;
            lock (_loads)
            {
                generation = _loads[key] = _loads.GetValueOrDefault(key) + 1;
            }
            if (Gate is { } gate)
            {
                await gate.Task;
            }
            return Failure is { } failure ? throw failure : new Loaded(key, generation);
        }

        public ModelLeaseCache<string, Loaded> Cache(int capacity) => new(LoadAsync, capacity, Evictions.Add, StringComparer.Ordinal);
    }

    private static async Task<Loaded> UseAsync(ModelLeaseCache<string, Loaded> cache, string key)
    {
        using var lease = await cache.AcquireAsync(key, CancellationToken.None).WaitAsync(Timeout);
        return lease.Value;
    }

    [Fact]
    public async Task ConcurrentAcquiresOfOneKeyShareOneLoad()
    {
        var loader = new Loader { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var cache = loader.Cache(4);

        var waiting = Enumerable.Range(0, 16).Select(_ => cache.AcquireAsync("a", CancellationToken.None)).ToArray();
        Assert.All(waiting, w => Assert.False(w.IsCompleted));
        loader.Gate.SetResult();
        var leases = await Task.WhenAll(waiting).WaitAsync(Timeout);

        Assert.Equal(1, loader.LoadsOf("a"));
        Assert.All(leases, l => Assert.Same(leases[0].Value, l.Value));
        Assert.Equal(1, cache.Count);
        foreach (var lease in leases)
        {
            lease.Dispose();
        }
        Assert.False(leases[0].Value.Disposed);
    }

    [Fact]
    public async Task ALeasedEntryIsNeverEvicted()
    {
        var loader = new Loader();
        using var cache = loader.Cache(1);

        var held = await cache.AcquireAsync("a", CancellationToken.None).WaitAsync(Timeout);
        var b = await UseAsync(cache, "b");
        var c = await UseAsync(cache, "c");

        // Over capacity, but "a" is leased: the idle ones go, even though they were used more recently.
        Assert.False(held.Value.Disposed);
        Assert.True(b.Disposed);
        Assert.True(c.Disposed);
        Assert.True(cache.TryPeek("a", out _));
        Assert.Equal(new[] { "b", "c" }, loader.Evictions.Select(e => e.Key));

        held.Dispose();
        Assert.False(held.Value.Disposed);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task BeyondCapacityTheLeastRecentlyUsedIdleEntryIsEvicted()
    {
        var loader = new Loader();
        using var cache = loader.Cache(2);

        var a = await UseAsync(cache, "a");
        var b = await UseAsync(cache, "b");
        Assert.Same(a, await UseAsync(cache, "a"));
        var c = await UseAsync(cache, "c");

        Assert.True(b.Disposed);
        Assert.False(a.Disposed);
        Assert.False(c.Disposed);
        var eviction = Assert.Single(loader.Evictions);
        Assert.Equal(("b", 3, 2), (eviction.Key, eviction.Count, eviction.Capacity));
        Assert.Equal(new[] { "a", "c" }, cache.Snapshot().Select(e => e.Key).Order());

        // An evicted key is simply loaded again.
        var again = await UseAsync(cache, "b");
        Assert.Equal(2, again.Generation);
        Assert.True(a.Disposed);
    }

    [Fact]
    public async Task PinnedEntriesAreNeitherCountedNorEvicted()
    {
        var loader = new Loader();
        using var cache = loader.Cache(1);

        var a = await UseAsync(cache, "a");
        cache.SetPinned("a", true);
        var b = await UseAsync(cache, "b");
        var c = await UseAsync(cache, "c");

        Assert.False(a.Disposed);
        Assert.True(b.Disposed);
        Assert.False(c.Disposed);
        Assert.Equal(2, cache.Count);

        // Unpinned, "a" counts again and is the least recently used.
        cache.SetPinned("a", false);
        Assert.True(a.Disposed);
        Assert.False(c.Disposed);
    }

    [Fact]
    public async Task AFailedLoadIsReportedToEveryWaiterAndNotCached()
    {
        var loader = new Loader
        {
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            Failure = new InvalidDataException("corrupt artifact"),
        };
        using var cache = loader.Cache(4);

        var waiting = Enumerable.Range(0, 4).Select(_ => cache.AcquireAsync("a", CancellationToken.None)).ToArray();
        loader.Gate.SetResult();
        foreach (var waiter in waiting)
        {
            var error = await Assert.ThrowsAsync<InvalidDataException>(() => waiter.WaitAsync(Timeout));
            Assert.Equal("corrupt artifact", error.Message);
        }
        Assert.Equal(1, loader.LoadsOf("a"));
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryPeek("a", out _));

        loader.Failure = null;
        var loaded = await UseAsync(cache, "a");
        Assert.Equal(2, loader.LoadsOf("a"));
        Assert.Equal(2, loaded.Generation);
    }

    [Fact]
    public async Task AWaiterThatGivesUpLeavesTheLoadToTheNextCaller()
    {
        var loader = new Loader { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var cache = loader.Cache(4);
        using var cts = new CancellationTokenSource();

        var waiting = cache.AcquireAsync("a", cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));
        loader.Gate.SetResult();

        var loaded = await UseAsync(cache, "a");
        Assert.Equal(1, loader.LoadsOf("a"));
        Assert.False(loaded.Disposed);
    }

    [Fact]
    public async Task ARemovedEntryIsDisposedAfterItsLastLeaseAndTheKeyLoadsAfresh()
    {
        var loader = new Loader();
        using var cache = loader.Cache(4);

        var first = await cache.AcquireAsync("a", CancellationToken.None).WaitAsync(Timeout);
        var second = await cache.AcquireAsync("a", CancellationToken.None).WaitAsync(Timeout);
        Assert.False(cache.Remove("a", new Loaded("a", 99)));
        Assert.True(cache.Remove("a", first.Value));
        Assert.False(cache.TryAcquire("a", out _));

        var replacement = await UseAsync(cache, "a");
        Assert.Equal(2, replacement.Generation);
        first.Dispose();
        first.Dispose();
        Assert.False(second.Value.Disposed);
        second.Dispose();
        Assert.True(second.Value.Disposed);
        Assert.False(replacement.Disposed);
    }

    [Fact]
    public async Task DisposingTheCacheClosesIdleEntriesAtOnceAndLeasedOnesOnRelease()
    {
        var loader = new Loader();
        var cache = loader.Cache(4);
        var idle = await UseAsync(cache, "a");
        var held = await cache.AcquireAsync("b", CancellationToken.None).WaitAsync(Timeout);

        cache.Dispose();

        Assert.True(idle.Disposed);
        Assert.False(held.Value.Disposed);
        held.Dispose();
        Assert.True(held.Value.Disposed);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.AcquireAsync("a", CancellationToken.None));
    }
}
