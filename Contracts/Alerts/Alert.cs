using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>
/// An alert as listed at <c>GET /v1/alerts</c> and posted to webhooks. Rule alerts fire once, stay firing and resolve;
/// event alerts (a rollout that failed, a guard rollback) fire once and stay in the list as they happened.
/// </summary>
public sealed record Alert
{
    public const string StatusFiring = "firing";
    public const string StatusResolved = "resolved";

    public long Id { get; init; }
    [JsonPropertyName("alert")]
    public required string Name { get; init; }
    public required string Severity { get; init; }
    public required string Status { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Model { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Version { get; init; }
    public required double Value { get; init; }
    public required double Threshold { get; init; }
    /// <summary>When the alert last changed (fired or resolved).</summary>
    public required DateTimeOffset At { get; init; }
    public required DateTimeOffset FiredAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public required string Summary { get; init; }
    /// <summary>Where to look: relative API paths (statistics, the rollout).</summary>
    public IReadOnlyDictionary<string, string> Links { get; init; } = new Dictionary<string, string>();
    /// <summary>What the alert is about within its rule (a model version, a stream); one firing alert per rule and subject.</summary>
    [JsonIgnore]
    public string Subject { get; init; } = "";
}

/// <summary>The webhook body: the alert's public fields.</summary>
public sealed record AlertNotification(
    [property: JsonPropertyName("alert")] string Alert,
    string Severity,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Version,
    double Value,
    double Threshold,
    DateTimeOffset At,
    string Summary,
    IReadOnlyDictionary<string, string> Links)
{
    public static AlertNotification Of(Alert alert) => new(alert.Name, alert.Severity, alert.Status, alert.Model, alert.Version,
        alert.Value, alert.Threshold, alert.At, alert.Summary, alert.Links);
}
