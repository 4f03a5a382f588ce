using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Telemetry;

/// <summary>What one answered inference contributes to its version's cumulative statistics (Triton's statistics extension).</summary>
public readonly record struct InferenceTimings(long Rows, TimeSpan Queue, TimeSpan ComputeInput, TimeSpan ComputeInfer, TimeSpan ComputeOutput,
    double Executions, bool? CacheHit);

/// <summary>
/// Cumulative statistics per model version, summed over every online scorer replica: counted in memory (lock-free) and added to one
/// Redis hash per version (<see cref="ModelStatisticsKeys"/>) with HINCRBY every flush interval, so the sums never expire and any
/// replica can answer <c>/v2/models/stats</c>. Redis being down loses those seconds' counts, never a request.
/// </summary>
public sealed partial class ModelStatisticsRecorder(IConnectionMultiplexer redis, IOptions<FleetStatsOptions> options, TimeProvider time,
    ILogger<ModelStatisticsRecorder> logger) : BackgroundService
{
    // Slots of a version's counter array, in ModelStatisticsKeys.Fields order; executions are kept in millionths (a batched run is shared).
    private const int Slots = 18;
    private const int ExecutionMillionths = 16;
    private const int LastInference = 17;

    // Keys are versions that answered at least one request (bounded by the registry's versions, as the fleet statistics').
    private readonly ConcurrentDictionary<(string Model, string Version), long[]> _counters = new();

    /// <summary>Counts one successful inference.</summary>
    public void Success(string model, string version, TimeSpan elapsed, InferenceTimings timings)
    {
        var slots = Slot(model, version);
        Add(slots, 1, elapsed);
        // Triton's rules: the queue count includes cache hits (with the time they waited, none), inference_count does not.
        Add(slots, 5, timings.Queue);
        if (timings.CacheHit is true)
        {
            Add(slots, 13, timings.ComputeInput + timings.ComputeOutput);
        }
        else
        {
            Interlocked.Add(ref slots[0], timings.Rows);
            Add(slots, 7, timings.ComputeInput);
            Add(slots, 9, timings.ComputeInfer);
            Add(slots, 11, timings.ComputeOutput);
            if (timings.CacheHit is false)
            {
                Add(slots, 15, TimeSpan.Zero, countOnly: true);
            }
            Interlocked.Add(ref slots[ExecutionMillionths], (long)Math.Round(timings.Executions * 1_000_000));
        }
        Stamp(slots);
    }

    /// <summary>Counts one failed inference of a version that exists.</summary>
    public void Failure(string model, string version, TimeSpan elapsed)
    {
        var slots = Slot(model, version);
        Add(slots, 3, elapsed);
        Stamp(slots);
    }

    private long[] Slot(string model, string version) => _counters.GetOrAdd((model, version), static _ => new long[Slots]);

    private static void Add(long[] slots, int first, TimeSpan duration, bool countOnly = false)
    {
        Interlocked.Increment(ref slots[first]);
        if (!countOnly)
        {
            Interlocked.Add(ref slots[first + 1], (long)(duration.Ticks * 100));
        }
    }

    private void Stamp(long[] slots)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        long seen;
        while ((seen = Volatile.Read(ref slots[LastInference])) < now && Interlocked.CompareExchange(ref slots[LastInference], now, seen) != seen)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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

    /// <summary>Moves what was counted since the last flush into the versions' hashes.</summary>
    internal void Flush()
    {
        IBatch? batch = null;
        foreach (var ((model, version), slots) in _counters)
        {
            var key = (RedisKey)ModelStatisticsKeys.Version(model, version);
            var any = false;
            for (var i = 0; i < ExecutionMillionths; i++)
            {
                var delta = Interlocked.Exchange(ref slots[i], 0);
                if (delta != 0)
                {
                    batch ??= redis.GetDatabase().CreateBatch();
                    _ = batch.HashIncrementAsync(key, ModelStatisticsKeys.Fields[i], delta, CommandFlags.FireAndForget);
                    any = true;
                }
            }
            // Whole executions only; the shares of runs not yet complete stay for the next flush.
            var executions = Volatile.Read(ref slots[ExecutionMillionths]) / 1_000_000;
            if (executions > 0)
            {
                Interlocked.Add(ref slots[ExecutionMillionths], -executions * 1_000_000);
                batch ??= redis.GetDatabase().CreateBatch();
                _ = batch.HashIncrementAsync(key, ModelStatisticsKeys.ExecutionCount, executions, CommandFlags.FireAndForget);
                any = true;
            }
            if (any)
            {
                // The latest inference of every replica: the largest value wins.
                _ = batch!.ScriptEvaluateAsync(MaxScript, [key], [ModelStatisticsKeys.LastInference, Volatile.Read(ref slots[LastInference])],
                    CommandFlags.FireAndForget);
                _ = batch.SetAddAsync(ModelStatisticsKeys.Index, ModelStatisticsKeys.Member(model, version), CommandFlags.FireAndForget);
            }
        }
        if (batch is null)
        {
            return;
        }
        try
        {
            batch.Execute();
        }
        catch (RedisException ex)
        {
            LogFlushFailed(logger, ex);
        }
    }

    private const string MaxScript =
        "local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model statistics could not be written to Redis; this interval's counts are lost")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}

/// <summary>
/// The Redis layout of the cumulative statistics: one hash per model version (fields as Triton names them) and a set of the versions
/// that have one. The sums are kept for as long as the version exists.
/// </summary>
public static class ModelStatisticsKeys
{
    public const string Index = "mlplatform:model-stats:index";
    public const string ExecutionCount = "execution_count";
    public const string LastInference = "last_inference";

    /// <summary>The hash fields of the counters, in the recorder's slot order.</summary>
    public static readonly RedisValue[] Fields =
    [
        "inference_count",
        "success_count", "success_ns", "fail_count", "fail_ns", "queue_count", "queue_ns", "compute_input_count", "compute_input_ns",
        "compute_infer_count", "compute_infer_ns", "compute_output_count", "compute_output_ns", "cache_hit_count", "cache_hit_ns",
        "cache_miss_count",
    ];

    public static string Version(string model, string version) => $"mlplatform:model-stats:{model}:{version}";

    public static string Member(string model, string version) => $"{model}\n{version}";
}
