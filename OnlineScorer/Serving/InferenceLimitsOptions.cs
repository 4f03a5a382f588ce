using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Request and capacity limits (section <c>InferenceLimits</c>); documented in docs/online-scorer.md.</summary>
public sealed class InferenceLimitsOptions
{
    public const string SectionName = "InferenceLimits";

    /// <summary>Largest request body in bytes, JSON and binary tensors together; larger bodies get 413. Default 32 MiB (the gateway's inference body limit).</summary>
    [Range(1024, 1L << 31)]
    public long MaxRequestBodyBytes { get; set; } = 32L << 20;

    /// <summary>Most elements one input tensor may have; more gets 413. Default 16,777,216.</summary>
    [Range(1, int.MaxValue)]
    public long MaxElementsPerInput { get; set; } = 16L << 20;

    /// <summary>
    /// Most versions loaded on demand (<c>/versions/{v}</c>) that no alias routes to; beyond it the least recently used is evicted
    /// (after its in-flight requests finish). Versions the <c>production</c>/<c>canary</c> aliases route to are always loaded. Default 8.
    /// </summary>
    [Range(1, 1024)]
    public int MaxLoadedVersions { get; set; } = 8;

    /// <summary>
    /// Bytes of request bodies and decoded tensors held at once by all requests together; a request that would exceed it is answered
    /// 503 with <c>Retry-After</c> before its body is read. 0 (the default) sizes it from the memory limit: half the cgroup's
    /// <c>memory.max</c> when one is set, else a quarter of the memory the runtime sees.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MaxInFlightBytes { get; set; }

    /// <summary>Unbatched model runs at once; more wait for a free slot (their bytes already counted). 0 (the default): one per core.</summary>
    [Range(0, 1024)]
    public int MaxConcurrentRuns { get; set; }

    /// <summary>Different versions loading on demand at once; a request for another one is answered 503 with <c>Retry-After</c>. Default 2.</summary>
    [Range(1, 64)]
    public int MaxConcurrentLoads { get; set; } = 2;

    /// <summary>Versions one API key may be loading on demand at once (the gateway names the key); more are answered 429. Default 1.</summary>
    [Range(1, 64)]
    public int MaxConcurrentLoadsPerKey { get; set; } = 1;

    /// <summary><see cref="MaxInFlightBytes"/>, or its default sized from the memory limit.</summary>
    public long EffectiveMaxInFlightBytes => MaxInFlightBytes > 0 ? MaxInFlightBytes : MemoryLimit.DefaultBudget();

    /// <summary><see cref="MaxConcurrentRuns"/>, or one per core.</summary>
    public int EffectiveMaxConcurrentRuns => MaxConcurrentRuns > 0 ? MaxConcurrentRuns : Environment.ProcessorCount;
}
