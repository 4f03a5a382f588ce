using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Fleet;

/// <summary>Reads the per-second statistics the scorers add to Redis (<see cref="FleetStatsLayout"/>) and sums a window of them.</summary>
public sealed class FleetStatsReader(IConnectionMultiplexer redis, IOptions<FleetStatsOptions> options, TimeProvider time)
{
    /// <summary>The longest window that can be read: older seconds have expired.</summary>
    public TimeSpan MaxWindow => TimeSpan.FromSeconds(options.Value.RetentionSeconds);

    /// <summary>Sums the last <paramref name="window"/> (whole seconds, the current one included) of <paramref name="model"/> <paramref name="version"/>.</summary>
    /// <exception cref="RedisException">Redis cannot be read.</exception>
    public async Task<VersionStats> ReadAsync(string model, int version, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return await ReadRangeAsync(model, version, now - (long)Math.Ceiling(window.TotalSeconds) + 1, now, cancellationToken);
    }

    /// <summary>Sums the seconds <paramref name="fromSecond"/>…<paramref name="toSecond"/> (Unix, inclusive).</summary>
    public async Task<VersionStats> ReadRangeAsync(string model, int version, long fromSecond, long toSecond, CancellationToken cancellationToken = default)
    {
        var versionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fromSecond = Math.Max(fromSecond, toSecond - options.Value.RetentionSeconds + 1);
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var reads = new Task<HashEntry[]>[Math.Max(0, (int)(toSecond - fromSecond + 1))];
        for (var i = 0; i < reads.Length; i++)
        {
            reads[i] = batch.HashGetAllAsync(FleetStatsLayout.KeyFor(model, versionText, fromSecond + i));
        }
        batch.Execute();
        await Task.WhenAll(reads).WaitAsync(cancellationToken);
        var stats = new VersionStats();
        foreach (var read in reads)
        {
            foreach (var entry in read.Result)
            {
                if (entry.Value.TryParse(out long value))
                {
                    stats.Add(entry.Name.ToString(), value);
                }
            }
        }
        return stats;
    }

    /// <summary>A report of <paramref name="stats"/> as the API shows it.</summary>
    public VersionStatsReport Report(string model, int version, TimeSpan window, VersionStats stats)
    {
        var to = time.GetUtcNow();
        var routed = stats.Routed;
        return new VersionStatsReport(model, version, DurationText.Format(window), to - window, to, stats.Requests, stats.Errors,
            Math.Round(stats.ErrorRate, 6), Round(stats.PercentileMs(0.5)), Round(stats.PercentileMs(0.99)),
            stats.ClientErrors, stats.Rejected, routed.Requests, routed.Errors, Math.Round(routed.ErrorRate, 6), Round(routed.PercentileMs(0.99)));
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}
