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
    // One block of slots for all traffic and one for its alias-routed part, each: requests, server errors, client errors, rejected, buckets.
    private const int RequestsSlot = 0;
    private const int ErrorsSlot = 1;
    private const int ClientErrorsSlot = 2;
    private const int RejectedSlot = 3;
    private const int FirstBucketSlot = 4;
    private static readonly int BlockSize = FirstBucketSlot + FleetStatsLayout.BucketCount;
    private static readonly string[] CountFields =
        [FleetStatsLayout.RequestsField, FleetStatsLayout.ErrorsField, FleetStatsLayout.ClientErrorsField, FleetStatsLayout.RejectedField];
    private static readonly string[][] BlockFields =
    [
        [.. CountFields, .. FleetStatsLayout.BucketFields],
        [.. CountFields.Concat(FleetStatsLayout.BucketFields).Select(f => FleetStatsLayout.RoutedPrefix + f)],
    ];

    // Keys are model versions that served at least one request, so the map is bounded by the registry's versions.
    private readonly ConcurrentDictionary<(string Model, string Version), long[]> _counters = new();
    private readonly bool _enabled = options.Value.Enabled;

    /// <summary>
    /// Counts one answered request of <paramref name="model"/> <paramref name="version"/> with its <paramref name="fault"/>; its server latency
    /// counts only for the requests the version handled (successes and server errors). <paramref name="routed"/>: the request named the
    /// model, not a version, and so is also counted in the routed fields that rollouts and the guard judge.
    /// </summary>
    public void Record(string model, string version, InferenceFault fault, bool routed, TimeSpan elapsed)
    {
        if (!_enabled)
        {
            return;
        }
        var slots = _counters.GetOrAdd((model, version), static _ => new long[2 * BlockSize]);
        Count(slots, 0, fault, elapsed);
        if (routed)
        {
            Count(slots, BlockSize, fault, elapsed);
        }
    }

    private static void Count(long[] slots, int block, InferenceFault fault, TimeSpan elapsed)
    {
        Interlocked.Increment(ref slots[block + RequestsSlot]);
        switch (fault)
        {
            case InferenceFault.Client:
                Interlocked.Increment(ref slots[block + ClientErrorsSlot]);
                return;
            case InferenceFault.Rejected:
                Interlocked.Increment(ref slots[block + RejectedSlot]);
                return;
            case InferenceFault.Server:
                Interlocked.Increment(ref slots[block + ErrorsSlot]);
                break;
        }
        Interlocked.Increment(ref slots[block + FirstBucketSlot + FleetStatsLayout.BucketIndex(elapsed.TotalMilliseconds)]);
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
                if (Volatile.Read(ref slots[RequestsSlot]) == 0)
                {
                    continue;
                }
                batch ??= redis.GetDatabase().CreateBatch();
                // The second's hash feeds rollouts, the guard and alerts; the minute's, series over hours. Same fields, same counts.
                var key = (RedisKey)FleetStatsLayout.KeyFor(id.Model, id.Version, second);
                var minuteKey = (RedisKey)FleetStatsLayout.MinuteKeyFor(id.Model, id.Version, second / 60);
                // All traffic goes to both hashes; the routed subset only to the second's, as only rollouts and the guard judge it.
                var all = BlockFields[0];
                for (var i = 0; i < all.Length; i++)
                {
                    Add(batch, key, minuteKey, all[i], Interlocked.Exchange(ref slots[i], 0));
                }
                var routed = BlockFields[1];
                for (var i = 0; i < routed.Length; i++)
                {
                    var count = Interlocked.Exchange(ref slots[BlockSize + i], 0);
                    if (count != 0)
                    {
                        _ = batch.HashIncrementAsync(key, routed[i], count, CommandFlags.FireAndForget);
                    }
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
