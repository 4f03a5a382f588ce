namespace MlPlatform.Contracts;

/// <summary>
/// How the scorers should serve a model (like Triton's model configuration; <c>GET/PUT /v1/models/{name}/serving</c>); a null member
/// means "use the scorer's default". The bounds are here so every reader knows them; the registry enforces them.
/// </summary>
/// <param name="PayloadLog">Which requests the scorers record in the payload log; null: none.</param>
/// <param name="Quality">How the registry judges the logged predictions against ground truth; null: not judged.</param>
public sealed record ServingSettings(
    BatchingSettings? Batching,
    int? InstanceCount,
    IReadOnlyDictionary<string, long[]>? WarmupShapes,
    ResponseCacheSettings? ResponseCache,
    PayloadLogSettings? PayloadLog = null,
    QualitySettings? Quality = null)
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

/// <summary>
/// The payload log of a model: the share of requests recorded (inputs, outputs, id, latency, outcome) and the most bytes a record
/// may take before its tensors are left out (<c>truncated: true</c>). Null members take the defaults.
/// </summary>
public sealed record PayloadLogSettings(bool Enabled, double? SampleRate, int? MaxBytesPerRecord)
{
    /// <summary>Share of requests recorded when <see cref="SampleRate"/> is null.</summary>
    public const double DefaultSampleRate = 1.0;

    /// <summary>Record size limit when <see cref="MaxBytesPerRecord"/> is null (64 KiB).</summary>
    public const int DefaultMaxBytesPerRecord = 64 * 1024;

    /// <summary>The largest record size a model may ask for (1 MiB): records travel through Redis.</summary>
    public const int MaxBytesPerRecordLimit = 1024 * 1024;

    /// <summary>The smallest record size (room for the id, timings and outcome without tensors).</summary>
    public const int MinBytesPerRecord = 1024;
}

/// <summary>
/// How a model's logged predictions are judged against the labels sent to <c>POST /v1/models/{name}/feedback</c>:
/// <see cref="Task"/> is <see cref="Classification"/> (the argmax of <see cref="Output"/>, or its value when it is a label tensor) or
/// <see cref="Regression"/> (its value); <see cref="Labels"/> names the classes by argmax index.
/// </summary>
public sealed record QualitySettings(string Task, string Output, IReadOnlyList<string>? Labels)
{
    public const string Classification = "classification";
    public const string Regression = "regression";
}
