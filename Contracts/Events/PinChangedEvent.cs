using System.Text.Json.Serialization;

namespace MlPlatform.Contracts;

/// <summary>Published after a version was pinned (<see cref="Pinned"/> true) or its pin released (committed); scorers read the pins from the API.</summary>
public sealed record PinChangedEvent(string Model, int Version, bool Pinned, DateTimeOffset At)
{
    [JsonPropertyOrder(-1)]
    public string Type => RegistryEvents.PinChanged;
}
