using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Dynamic batching defaults (section <c>Batching</c>); a model's serving settings override them.</summary>
public sealed class BatchingOptions
{
    public const string SectionName = "Batching";

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
