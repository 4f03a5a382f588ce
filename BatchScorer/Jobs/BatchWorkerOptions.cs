using System.ComponentModel.DataAnnotations;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>How a replica's workers take chunks from the queue.</summary>
public sealed class BatchWorkerOptions : IValidatableObject
{
    public const string SectionName = "BatchWorkerOptions";

    /// <summary>Chunks one replica scores at the same time. Default 2.</summary>
    [Range(1, 64)]
    public int MaxConcurrentChunks { get; set; } = 2;

    /// <summary>Rows stacked into one ONNX Runtime run. Default 1,024.</summary>
    [Range(1, 65_536)]
    public int InferenceBatchSize { get; set; } = 1024;

    /// <summary>How long a delivered chunk may go without its holder renewing the claim before another worker takes it over (XAUTOCLAIM). Default 15 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a worker renews the claim on the chunk in hand; must be well inside <see cref="ClaimIdleTime"/>. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:20:00")]
    public TimeSpan ClaimRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deliveries of one chunk before it is dead-lettered and its job failed. Default 3.</summary>
    [Range(1, 100)]
    public int MaxDeliveries { get; set; } = 3;

    /// <summary>Idle wait between polls of an empty queue (a pub/sub nudge wakes workers earlier). Default 250 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>ONNX sessions a replica keeps open; the least recently used idle one is closed beyond this. Default 4.</summary>
    [Range(1, 256)]
    public int MaxLoadedModels { get; set; } = 4;

    /// <summary>How often the reconciler re-enqueues lost chunks and restores jobs from the data folder. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ClaimRenewInterval * 2 > ClaimIdleTime)
        {
            yield return new ValidationResult(
                $"ClaimRenewInterval ({ClaimRenewInterval}) must be at most half of ClaimIdleTime ({ClaimIdleTime}) so a healthy chunk is never taken over.",
                [nameof(ClaimRenewInterval), nameof(ClaimIdleTime)]);
        }
    }
}
