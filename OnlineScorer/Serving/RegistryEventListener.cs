using System.Text.Json;
using MlPlatform.Inference.Registry;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Listens on <c>mlplatform:events</c> and reconciles a model when one of its aliases or its serving settings change (the
/// reconciliation applies new batching and cache settings to the versions already loaded). Events are only a nudge:
/// after a Redis reconnect (when events may have been missed) every model is reconciled.
/// </summary>
internal sealed class RegistryEventListener(IConnectionMultiplexer redis, ModelReconciler reconciler, ILogger<RegistryEventListener> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ListenAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Redis unreachable or the subscription dropped: the periodic reconciliation covers the gap.
                    logger.LogWarning(ex, "Listening for registry events failed; subscribing again shortly");
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }

        void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
            _ = Task.Run(async () =>
            {
                try
                {
                    await reconciler.ReconcileAllAsync(stoppingToken);
                }
                catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, stoppingToken))
                {
                    logger.LogWarning(ex, "Reconciliation after a Redis reconnect failed; the periodic one will heal it");
                }
            }, stoppingToken);
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(RegistryEvents.Channel));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var message = await queue.ReadAsync(stoppingToken);
                await HandleAsync(message.Message, stoppingToken);
            }
        }
        finally
        {
            await queue.UnsubscribeAsync();
        }
    }

    private async Task HandleAsync(RedisValue payload, CancellationToken cancellationToken)
    {
        RegistryEvent? evt;
        try
        {
            evt = JsonSerializer.Deserialize<RegistryEvent>(payload.ToString());
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Ignoring an event that is not JSON");
            return;
        }
        if (evt is not { Type: RegistryEvents.AliasChanged or RegistryEvents.ServingChanged } || string.IsNullOrEmpty(evt.Model))
        {
            return;
        }
        if (evt.Type == RegistryEvents.AliasChanged)
        {
            logger.LogInformation("Alias {Alias} of {Model} moved to version {Version}; reconciling", evt.Alias, evt.Model, evt.Version);
        }
        else
        {
            logger.LogInformation("Serving settings of {Model} changed; reconciling", evt.Model);
        }
        try
        {
            await reconciler.ReconcileModelAsync(evt.Model, cancellationToken);
        }
        catch (Exception ex) when (ModelReconciler.IsRegistryFailure(ex, cancellationToken))
        {
            logger.LogWarning(ex, "Reconciling {Model} after an event failed; the periodic reconciliation retries", evt.Model);
        }
    }
}
