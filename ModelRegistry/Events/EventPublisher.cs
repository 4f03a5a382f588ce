using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Events;

public sealed class EventsOptions
{
    public const string SectionName = "Events";

    // The channel and the stream are constants (RegistryEvents.Channel, RegistryEvents.LogStream), not settings: every scorer
    // listens on them, so a registry configured with another name would silently cut the scorers off.

    /// <summary>Approximate number of entries the stream keeps. Default 10000.</summary>
    [Range(100, 10_000_000)]
    public int StreamMaxLength { get; set; } = 10_000;
}

/// <summary>
/// Publishes registry events to Redis after their change is committed. Events are hints (consumers reconcile from the API),
/// so a Redis failure is logged and never undoes or fails the committed change.
/// </summary>
public sealed class EventPublisher(IConnectionMultiplexer redis, IOptions<EventsOptions> options, ILogger<EventPublisher> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task PublishAsync(AliasChangedEvent change) =>
        PublishJsonAsync($"{change.Type} of {change.Model}/{change.Alias}", JsonSerializer.Serialize(change, Json));

    public Task PublishAsync(ServingChangedEvent change) =>
        PublishJsonAsync($"{change.Type} of {change.Model}", JsonSerializer.Serialize(change, Json));

    /// <summary>Logs and publishes an event already serialised (with its <c>type</c>); <paramref name="what"/> names it in the log on failure.</summary>
    public async Task PublishJsonAsync(string what, string json)
    {
        var settings = options.Value;
        try
        {
            var db = redis.GetDatabase();
            // Logged before it is announced, so a subscriber that reads the log on a notification finds the entry.
            await db.StreamAddAsync(RegistryEvents.LogStream, RegistryEvents.LogStreamField, json, maxLength: settings.StreamMaxLength, useApproximateMaxLength: true);
            await db.PublishAsync(RedisChannel.Literal(RegistryEvents.Channel), json);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Could not publish {Event}; consumers will catch up on their next reconciliation", what);
        }
    }
}
