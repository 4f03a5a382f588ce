using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>
/// Counts requests per model version in memory (lock-free, no allocation per request once a version has been seen) and adds the counts
/// to the current second's hash in Redis every flush interval, pipelined and fire-and-forget, so that the registry can read a version's
/// error rate and latency across every replica. Redis being down loses those seconds' counts, never a request.
/// </summary>
public sealed partial class FleetStatsRecorder(IConnectionMultiplexer redis, IOptions<FleetStatsOptions> options, TimeProvider time,
    ILogger<FleetStatsRecorder> logger) : BackgroundService
{
    private const int RequestsSlot = 0;
    private const int ErrorsSlot = 1;
    private const int FirstBucketSlot = 2;

    // Keys are model versions that served at least one request, so the map is bounded by the registry's versions.
    private readonly ConcurrentDictionary<(string Model, string Version), long[]> _counters = new();
    private readonly bool _enabled = options.Value.Enabled;

    /// <summary>Counts one answered request of <paramref name="model"/> <paramref name="version"/>.</summary>
    public void Record(string model, string version, int statusCode, TimeSpan elapsed)
    {
        if (!_enabled)
        {
            return;
        }
        var slots = _counters.GetOrAdd((model, version), static _ => new long[FirstBucketSlot + FleetStatsLayout.BucketCount]);
        Interlocked.Increment(ref slots[RequestsSlot]);
        if (FleetStatsLayout.IsError(statusCode))
        {
            Interlocked.Increment(ref slots[ErrorsSlot]);
        }
        Interlocked.Increment(ref slots[FirstBucketSlot + FleetStatsLayout.BucketIndex(elapsed.TotalMilliseconds)]);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.FlushIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        Flush();
    }

    /// <summary>Moves what was counted since the last flush into the current second's keys.</summary>
    public void Flush()
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        var ttl = TimeSpan.FromSeconds(options.Value.RetentionSeconds);
        var minuteTtl = TimeSpan.FromSeconds(options.Value.MinuteRetentionSeconds);
        IBatch? batch = null;
        try
        {
            foreach (var (id, slots) in _counters)
            {
                var requests = Interlocked.Exchange(ref slots[RequestsSlot], 0);
                if (requests == 0)
                {
                    continue;
                }
                batch ??= redis.GetDatabase().CreateBatch();
                // The second's hash feeds rollouts, the guard and alerts; the minute's, series over hours. Same fields, same counts.
                var key = (RedisKey)FleetStatsLayout.KeyFor(id.Model, id.Version, second);
                var minuteKey = (RedisKey)FleetStatsLayout.MinuteKeyFor(id.Model, id.Version, second / 60);
                Add(batch, key, minuteKey, FleetStatsLayout.RequestsField, requests);
                Add(batch, key, minuteKey, FleetStatsLayout.ErrorsField, Interlocked.Exchange(ref slots[ErrorsSlot], 0));
                for (var i = 0; i < FleetStatsLayout.BucketCount; i++)
                {
                    Add(batch, key, minuteKey, FleetStatsLayout.BucketFields[i], Interlocked.Exchange(ref slots[FirstBucketSlot + i], 0));
                }
                _ = batch.KeyExpireAsync(key, ttl, CommandFlags.FireAndForget);
                _ = batch.KeyExpireAsync(minuteKey, minuteTtl, CommandFlags.FireAndForget);
            }
            batch?.Execute();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFlushFailed(logger, ex);
        }
    }

    private static void Add(IBatch batch, RedisKey second, RedisKey minute, string field, long count)
    {
        if (count != 0)
        {
            _ = batch.HashIncrementAsync(second, field, count, CommandFlags.FireAndForget);
            _ = batch.HashIncrementAsync(minute, field, count, CommandFlags.FireAndForget);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add this second's statistics to Redis; they are lost, requests are not")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
