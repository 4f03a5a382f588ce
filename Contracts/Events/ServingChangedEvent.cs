using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>Published after a model's serving settings changed (committed); scorers read the new settings from the API.</summary>
public sealed record ServingChangedEvent(string Model, DateTimeOffset At)
{
    [JsonPropertyOrder(-1)]
    public string Type => RegistryEvents.ServingChanged;
}
