using System.Text.Json;
using MlPlatform.Inference.Registry;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Publishes what the scorer has to tell the platform (a version that failed to load) on the registry's event channel and log stream.</summary>
public sealed class ServingEventPublisher(IConnectionMultiplexer redis, ILogger<ServingEventPublisher> logger)
{
    /// <summary>Publishes a <c>load-failed</c> event; a Redis failure is logged, never thrown (the load failure itself is already logged and counted).</summary>
    public async Task PublishLoadFailedAsync(string name, ModelVersion version, string reason)
    {
        try
        {
            var payload = JsonSerializer.Serialize(new RegistryEvent(RegistryEvents.LoadFailed, name, Version: version.Version,
                Sha256: version.Sha256, Reason: reason, At: DateTimeOffset.UtcNow));
            var db = redis.GetDatabase();
            await db.PublishAsync(RedisChannel.Literal(RegistryEvents.Channel), payload);
            await db.StreamAddAsync(RegistryEvents.LogStream, RegistryEvents.LogStreamField, payload, maxLength: 10_000, useApproximateMaxLength: true);
        }
        catch (RedisException ex)
        {
            logger.LogWarning(ex, "Could not publish the load-failed event for {Model} version {Version}", name, version.Version);
        }
    }
}
