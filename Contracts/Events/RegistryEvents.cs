using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>
/// Where platform events go and what they are called. Constants, not settings: the registry publishes and every scorer listens on
/// the same names, so a configurable name in one service would silently cut the others off.
/// </summary>
public static class RegistryEvents
{
    /// <summary>The Redis pub/sub channel of registry and scorer events.</summary>
    public const string Channel = "mlplatform:events";

    /// <summary>The capped Redis stream every event is also appended to (field <see cref="LogStreamField"/>).</summary>
    public const string LogStream = "mlplatform:events:log";

    /// <summary>The field of a <see cref="LogStream"/> entry that holds the event's JSON.</summary>
    public const string LogStreamField = "event";

    /// <summary>An alias moved, was created or deleted (<see cref="AliasChangedEvent"/>).</summary>
    public const string AliasChanged = "alias-changed";

    /// <summary>A model's serving settings changed (<see cref="ServingChangedEvent"/>).</summary>
    public const string ServingChanged = "serving-changed";

    /// <summary>A version was pinned on every online scorer or its pin released (<see cref="PinChangedEvent"/>).</summary>
    public const string PinChanged = "pin-changed";

    /// <summary>A scorer could not load a version.</summary>
    public const string LoadFailed = "load-failed";

    /// <summary>An alert fired or resolved.</summary>
    public const string Alert = "alert";

    /// <summary>A service process exited without being asked to (appended by the AppHost's supervisor on the one-machine run).</summary>
    public const string ServiceCrashed = "service-crashed";

    /// <summary>The AppHost's supervisor started a crashed service process again.</summary>
    public const string ServiceRestarted = "service-restarted";
}

/// <summary>
/// Any event on <see cref="RegistryEvents.Channel"/> as a reader sees it (alias-changed, load-failed…); the scorers write
/// load-failed events with it. Names are explicit so the serializer's defaults read and write the same JSON as the web defaults.
/// </summary>
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
