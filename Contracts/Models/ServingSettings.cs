namespace MlPlatform.Contracts;

/// <summary>
/// How the scorers should serve a model (like Triton's model configuration; <c>GET/PUT /v1/models/{name}/serving</c>); a null member
/// means "use the scorer's default". The bounds are here so every reader knows them; the registry enforces them.
/// </summary>
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

    /// <summary>Settings with every member null (the scorers' defaults apply).</summary>
    public static readonly ServingSettings Default = new(null, null, null, null);
}

/// <summary>Dynamic batching settings of a model.</summary>
public sealed record BatchingSettings(bool Enabled, int? MaxBatchSize, double? MaxQueueDelayMs);

/// <summary>Response cache settings of a model.</summary>
public sealed record ResponseCacheSettings(bool Enabled);
