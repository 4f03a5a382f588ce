using System.Text.Json;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage.Tables;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>The result of a serving settings change: the settings now and the event to publish (null when nothing changed).</summary>
public sealed record ServingUpdate(ServingSettings Settings, ServingChangedEvent? Event);

/// <summary>Each model's serving settings (batching, limits), the defaults until first set.</summary>
public sealed class ServingStore(RegistryUnitOfWork work)
{
    public async Task<StoreResult<ServingSettings>> GetServingAsync(string name, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        var (exists, json) = await read.Serving.ReadAsync(name, cancellationToken);
        if (!exists)
        {
            return StoreResult<ServingSettings>.NotFound($"Model '{name}' does not exist.");
        }
        return StoreResult<ServingSettings>.Ok(json is null
            ? ServingSettings.Default
            : JsonSerializer.Deserialize<ServingSettings>(json, SqlValues.Json) ?? ServingSettings.Default);
    }

    /// <summary>Replaces a model's serving settings; replacing them with equal ones changes nothing and publishes nothing.</summary>
    public async Task<StoreResult<ServingUpdate>> PutServingAsync(string name, ServingSettings settings, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var (exists, current) = await write.Serving.ReadAsync(name, cancellationToken);
        if (!exists)
        {
            return StoreResult<ServingUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        var json = JsonSerializer.Serialize(settings, SqlValues.Json);
        if (json == (current ?? JsonSerializer.Serialize(ServingSettings.Default, SqlValues.Json)))
        {
            return StoreResult<ServingUpdate>.Ok(new ServingUpdate(settings, null));
        }
        await write.Serving.WriteAsync(name, json, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return StoreResult<ServingUpdate>.Ok(new ServingUpdate(settings, new ServingChangedEvent(name, write.Clock.GetUtcNow())));
    }
}
