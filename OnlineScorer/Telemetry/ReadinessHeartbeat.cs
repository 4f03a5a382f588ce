using MlPlatform.Inference.Fleet;
using MlPlatform.OnlineScorer.Serving;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>
/// Tells the registry's <c>scorer-not-ready</c> alert rule whether this replica is ready: a Redis key per replica with a short TTL,
/// so a replica that dies simply disappears (its orchestrator restarts it) while one that runs but is not ready is counted.
/// </summary>
public sealed class ReadinessHeartbeat(IConnectionMultiplexer redis, ServerReadiness readiness, TimeProvider time, ILogger<ReadinessHeartbeat> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private readonly RedisKey _key = $"{FleetStatsLayout.ScorerHeartbeatPrefix}{Environment.MachineName}:{Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    await redis.GetDatabase().StringSetAsync(_key, readiness.IsReady ? FleetStatsLayout.Ready : FleetStatsLayout.NotReady, Ttl);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    logger.LogDebug(ex, "Readiness heartbeat not written; Redis is unreachable");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(_key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogDebug(ex, "Readiness heartbeat not removed; it expires on its own");
        }
    }
}
