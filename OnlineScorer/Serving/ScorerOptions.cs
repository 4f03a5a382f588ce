using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Request and capacity limits (section <c>InferenceLimits</c>); documented in docs/online-scorer.md.</summary>
public sealed class InferenceLimitsOptions
{
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
}

/// <summary>Dynamic batching defaults (section <c>Batching</c>); a model's serving settings override them.</summary>
public sealed class BatchingOptions
{
    /// <summary>Whether requests to batchable models (dynamic first axis) are batched. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Most rows stacked into one run. Default 32.</summary>
    [Range(1, 4096)]
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>Upper bound for any model's <c>maxBatchSize</c> serving setting. Default 1024.</summary>
    [Range(1, 65536)]
    public int MaxBatchSizeLimit { get; set; } = 1024;

    /// <summary>How long the first request of a batch waits for more, in milliseconds; 0 takes only what queued during the previous run. Default 0.</summary>
    [Range(0.0, 1000.0)]
    public double MaxQueueDelayMs { get; set; }

    /// <summary>Requests that may wait per model version; beyond it the scorer answers 503 with Retry-After. Default 512.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 512;

    /// <summary>Concurrent runs per model version when the serving settings do not say (<c>instanceCount</c>). Default 1.</summary>
    [Range(1, 64)]
    public int Instances { get; set; } = 1;

    /// <summary>Seconds a client is told to wait (Retry-After) when the queue is full or a model is not loaded yet. Default 1.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;
}

/// <summary>The Redis response cache (section <c>ResponseCache</c>); each model switches it on in its serving settings.</summary>
public sealed class ResponseCacheOptions
{
    /// <summary>How long an entry lives, in seconds. Default 300.</summary>
    [Range(1, 7 * 24 * 3600)]
    public int TtlSeconds { get; set; } = 300;

    /// <summary>Largest cached response (outputs only) in bytes; larger responses are not cached. Default 1 MiB.</summary>
    [Range(64, 512L << 20)]
    public int MaxEntryBytes { get; set; } = 1 << 20;
}

/// <summary>Reconciliation with the registry (section <c>Reconciliation</c>).</summary>
public sealed class ReconciliationOptions
{
    /// <summary>Seconds between full reconciliations, which heal missed events. Default 30.</summary>
    [Range(1, 3600)]
    public int IntervalSeconds { get; set; } = 30;

    /// <summary>Seconds before retrying when the registry cannot be reached. Default 2.</summary>
    [Range(1, 600)]
    public int RetrySeconds { get; set; } = 2;
}

/// <summary>Graceful shutdown (section <c>Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    /// <summary>Seconds in-flight requests may take to finish after SIGTERM before the process exits anyway. Default 30.</summary>
    [Range(1, 600)]
    public int DrainSeconds { get; set; } = 30;
}
