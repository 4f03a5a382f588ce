using System.Text.Json.Serialization;

namespace MlPlatform.OnlineScorer.Model;

/// <summary><c>GET /v2/models[/{name}[/versions/{version}]]/stats</c>, in Triton's statistics extension format.</summary>
public sealed record ModelStatisticsResponse([property: JsonPropertyName("model_stats")] IReadOnlyList<VersionStatistics> ModelStats);

/// <summary>Cumulative statistics of one model version, summed over every online scorer replica.</summary>
public sealed record VersionStatistics(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("last_inference")] long LastInference,
    [property: JsonPropertyName("inference_count")] long InferenceCount,
    [property: JsonPropertyName("execution_count")] long ExecutionCount,
    [property: JsonPropertyName("inference_stats")] InferStatistics InferenceStats,
    [property: JsonPropertyName("batch_stats")] IReadOnlyList<object> BatchStats);

public sealed record InferStatistics(
    [property: JsonPropertyName("success")] StatisticDuration Success,
    [property: JsonPropertyName("fail")] StatisticDuration Fail,
    [property: JsonPropertyName("queue")] StatisticDuration Queue,
    [property: JsonPropertyName("compute_input")] StatisticDuration ComputeInput,
    [property: JsonPropertyName("compute_infer")] StatisticDuration ComputeInfer,
    [property: JsonPropertyName("compute_output")] StatisticDuration ComputeOutput,
    [property: JsonPropertyName("cache_hit")] StatisticDuration CacheHit,
    [property: JsonPropertyName("cache_miss")] StatisticDuration CacheMiss);

/// <summary>How many times something happened and how long it took in total, in nanoseconds.</summary>
public sealed record StatisticDuration([property: JsonPropertyName("count")] long Count, [property: JsonPropertyName("ns")] long Ns);
