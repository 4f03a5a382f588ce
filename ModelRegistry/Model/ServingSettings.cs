namespace MlPlatform.ModelRegistry.Model;

/// <summary>How the scorers should serve a model (like Triton's model configuration); a null member means "use the scorer's default".</summary>
public sealed record ServingSettings(
    BatchingSettings? Batching,
    int? InstanceCount,
    IReadOnlyDictionary<string, long[]>? WarmupShapes,
    ResponseCacheSettings? ResponseCache)
{
    public const int MaxInstanceCount = 64;
    public const int MaxBatchSizeLimit = 4096;
    public const double MaxQueueDelayMsLimit = 10_000;
    public const int MaxRank = 8;

    public static readonly ServingSettings Defaults = new(null, null, null, null);

    /// <summary>Checks every bound; returns the errors by member path (empty when valid).</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (InstanceCount is < 1 or > MaxInstanceCount)
        {
            errors["instanceCount"] = [$"instanceCount must be between 1 and {MaxInstanceCount}."];
        }
        if (Batching?.MaxBatchSize is < 1 or > MaxBatchSizeLimit)
        {
            errors["batching.maxBatchSize"] = [$"maxBatchSize must be between 1 and {MaxBatchSizeLimit}."];
        }
        if (Batching?.MaxQueueDelayMs is { } delay && (double.IsNaN(delay) || delay < 0 || delay > MaxQueueDelayMsLimit))
        {
            errors["batching.maxQueueDelayMs"] = [$"maxQueueDelayMs must be between 0 and {MaxQueueDelayMsLimit}."];
        }
        foreach (var (input, shape) in WarmupShapes ?? new Dictionary<string, long[]>())
        {
            if (string.IsNullOrWhiteSpace(input) || shape is null || shape.Length is 0 or > MaxRank || shape.Any(d => d is < 1 or > 1_000_000))
            {
                errors[$"warmupShapes.{input}"] = [$"A warm-up shape has 1 to {MaxRank} dimensions, each between 1 and 1000000 (batch axis included)."];
            }
        }
        return errors;
    }
}

public sealed record BatchingSettings(bool Enabled, int? MaxBatchSize, double? MaxQueueDelayMs);

public sealed record ResponseCacheSettings(bool Enabled);
