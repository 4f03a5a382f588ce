using System.Text.Json.Serialization;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.Inference.Registry;

/// <summary>One page of <c>GET /v1/models</c>.</summary>
public sealed record RegistryModelPage(
    [property: JsonPropertyName("pageIndex")] int PageIndex,
    [property: JsonPropertyName("pageSize")] int PageSize,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("items")] IReadOnlyList<RegistryModelSummary> Items);

/// <summary>A model in a page of models.</summary>
public sealed record RegistryModelSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("latestVersion")] int? LatestVersion = null,
    [property: JsonPropertyName("aliases")] IReadOnlyList<RegistryAlias>? Aliases = null);

/// <summary>A model with its versions (ascending) and aliases (<c>GET /v1/models/{name}</c>).</summary>
public sealed record RegistryModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("latestVersion")] int? LatestVersion,
    [property: JsonPropertyName("versions")] IReadOnlyList<RegistryModelVersion> Versions,
    [property: JsonPropertyName("aliases")] IReadOnlyList<RegistryAlias> Aliases)
{
    /// <summary>The alias named <paramref name="alias"/>, or null.</summary>
    public RegistryAlias? FindAlias(string alias) => Aliases.FirstOrDefault(a => a.Name == alias);

    /// <summary>The version numbered <paramref name="version"/>, or null.</summary>
    public RegistryModelVersion? FindVersion(int version) => Versions.FirstOrDefault(v => v.Version == version);
}

/// <summary>An immutable model version: its artifact's hash and size, and its signature.</summary>
public sealed record RegistryModelVersion(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("sizeBytes")] long SizeBytes,
    [property: JsonPropertyName("signature")] ModelSignature Signature,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("description")] string? Description = null,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string>? Tags = null,
    [property: JsonPropertyName("archived")] bool Archived = false);

/// <summary>An alias pointing at a version; <see cref="Weight"/> is the traffic percentage of a canary, null otherwise.</summary>
public sealed record RegistryAlias(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("weight")] int? Weight);

/// <summary>Per-model serving settings (<c>GET /v1/models/{name}/serving</c>); a null member means "the scorer's default".</summary>
public sealed record ServingSettings(
    [property: JsonPropertyName("batching")] BatchingSettings? Batching = null,
    [property: JsonPropertyName("instanceCount")] int? InstanceCount = null,
    [property: JsonPropertyName("warmupShapes")] IReadOnlyDictionary<string, long[]>? WarmupShapes = null,
    [property: JsonPropertyName("responseCache")] ResponseCacheSettings? ResponseCache = null)
{
    /// <summary>Settings with every member null.</summary>
    public static ServingSettings Default { get; } = new();
}

/// <summary>Dynamic batching settings of a model.</summary>
public sealed record BatchingSettings(
    [property: JsonPropertyName("enabled")] bool? Enabled = null,
    [property: JsonPropertyName("maxBatchSize")] int? MaxBatchSize = null,
    [property: JsonPropertyName("maxQueueDelayMs")] double? MaxQueueDelayMs = null);

/// <summary>Response cache settings of a model.</summary>
public sealed record ResponseCacheSettings(
    [property: JsonPropertyName("enabled")] bool? Enabled = null);

/// <summary>An event on the Redis channel <see cref="RegistryEvents.Channel"/> (alias-changed, load-failed…).</summary>
public sealed record RegistryEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("alias")] string? Alias = null,
    [property: JsonPropertyName("version")] int? Version = null,
    [property: JsonPropertyName("previousVersion")] int? PreviousVersion = null,
    [property: JsonPropertyName("weight")] int? Weight = null,
    [property: JsonPropertyName("sha256")] string? Sha256 = null,
    [property: JsonPropertyName("reason")] string? Reason = null,
    [property: JsonPropertyName("at")] DateTimeOffset? At = null);

/// <summary>Names shared by event publishers and subscribers.</summary>
public static class RegistryEvents
{
    /// <summary>The Redis pub/sub channel of registry and scorer events.</summary>
    public const string Channel = "mlplatform:events";

    /// <summary>The capped stream every event is also appended to.</summary>
    public const string LogStream = "mlplatform:events:log";

    /// <summary>An alias moved, was created or deleted.</summary>
    public const string AliasChanged = "alias-changed";

    /// <summary>A model's serving settings changed.</summary>
    public const string ServingChanged = "serving-changed";

    /// <summary>A scorer could not load a version.</summary>
    public const string LoadFailed = "load-failed";

    /// <summary>A service process exited without being asked to (appended by the AppHost's supervisor on the one-machine run).</summary>
    public const string ServiceCrashed = "service-crashed";

    /// <summary>The AppHost's supervisor started a crashed service process again.</summary>
    public const string ServiceRestarted = "service-restarted";

    /// <summary>The alias a bare model name resolves through.</summary>
    public const string ProductionAlias = "production";

    /// <summary>The alias that takes a weighted share of a bare model name's traffic.</summary>
    public const string CanaryAlias = "canary";
}
