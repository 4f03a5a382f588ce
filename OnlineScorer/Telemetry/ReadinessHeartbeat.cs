using MlPlatform.Inference.Fleet;
using MlPlatform.OnlineScorer.Serving;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>
/// Tells the registry's <c>scorer-not-ready</c> alert rule whether this replica is ready: a Redis key per replica with a short TTL,
/// and the replica's last heartbeat time in the fleet set. A replica that stops (scaled down, redeployed) removes both; one that dies
/// leaves its fleet entry behind with an expired key, so the rule counts it as not ready as well as one that runs but is not ready.
/// </summary>
public sealed class ReadinessHeartbeat(IConnectionMultiplexer redis, ServerReadiness readiness, TimeProvider time, ILogger<ReadinessHeartbeat> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    // Entries of replicas that died long ago are dropped here too, so the set stays bounded even where no alert rule reads it.
    private static readonly TimeSpan FleetMemory = TimeSpan.FromDays(1);
    private readonly string _instance = $"{Environment.MachineName}:{Environment.ProcessId}";

    private RedisKey Key => FleetStatsLayout.ScorerHeartbeatPrefix + _instance;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    var now = time.GetUtcNow();
                    var batch = redis.GetDatabase().CreateBatch();
                    var beat = batch.StringSetAsync(Key, readiness.IsReady ? FleetStatsLayout.Ready : FleetStatsLayout.NotReady, Ttl);
                    var seen = batch.SortedSetAddAsync(FleetStatsLayout.ScorerFleetKey, _instance, now.ToUnixTimeMilliseconds());
                    var pruned = batch.SortedSetRemoveRangeByScoreAsync(FleetStatsLayout.ScorerFleetKey, double.NegativeInfinity,
                        (now - FleetMemory).ToUnixTimeMilliseconds());
                    batch.Execute();
                    await Task.WhenAll(beat, seen, pruned);
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
            // A deliberate stop leaves the fleet: it is not an outage to alert on.
            var db = redis.GetDatabase();
            await Task.WhenAll(db.KeyDeleteAsync(Key), db.SortedSetRemoveAsync(FleetStatsLayout.ScorerFleetKey, _instance));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogDebug(ex, "Readiness heartbeat not removed; it expires on its own");
        }
    }
}
