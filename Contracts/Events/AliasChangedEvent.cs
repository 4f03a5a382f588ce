using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>Published after an alias change is committed; <see cref="Version"/> and <see cref="Sha256"/> are null when the alias was deleted.</summary>
public sealed record AliasChangedEvent(
    string Model,
    string Alias,
    int? Version,
    int? PreviousVersion,
    int? Weight,
    string? Sha256,
    DateTimeOffset At)
{
    [JsonPropertyOrder(-1)]
    public string Type => RegistryEvents.AliasChanged;
}
