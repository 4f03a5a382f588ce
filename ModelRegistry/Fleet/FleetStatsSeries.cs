using System.Globalization;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Fleet;

/// <summary>
/// Reads a series from the scorers' statistics: steps of whole minutes from the per-minute hashes (kept for
/// <see cref="FleetStatsOptions.MinuteRetentionSeconds"/>), shorter steps from the per-second ones (kept for <see cref="FleetStatsOptions.RetentionSeconds"/>).
/// </summary>
public sealed class FleetStatsSeriesReader(IConnectionMultiplexer redis, IOptions<FleetStatsOptions> options, TimeProvider time)
{
    /// <summary>Most points one series may have (a window of 6 h at 15 s is 1440).</summary>
    public const int MaxPoints = 1440;

    /// <summary>Longest window of a series with whole-minute steps.</summary>
    public TimeSpan MaxMinuteWindow => TimeSpan.FromSeconds(options.Value.MinuteRetentionSeconds);

    /// <summary>Longest window of a series with steps shorter than a minute (or not whole minutes).</summary>
    public TimeSpan MaxSecondWindow => TimeSpan.FromSeconds(options.Value.RetentionSeconds);

    /// <summary>Why <paramref name="window"/> with <paramref name="step"/> cannot be read, or null when it can.</summary>
    public string? Check(TimeSpan window, TimeSpan step)
    {
        if (step < TimeSpan.FromSeconds(1) || step.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return "'step' is a whole number of seconds, at least 1s, such as 15s, 1m or 5m.";
        }
        if (window < step || window.Ticks % step.Ticks != 0)
        {
            return $"'window' ({DurationText.Format(window)}) must be a whole number of steps ({DurationText.Format(step)}).";
        }
        if (window.Ticks / step.Ticks > MaxPoints)
        {
            return $"A series has at most {MaxPoints} points; {DurationText.Format(window)} at {DurationText.Format(step)} is {window.Ticks / step.Ticks}. Take a longer step.";
        }
        var byMinute = IsMinuteStep(step);
        var max = byMinute ? MaxMinuteWindow : MaxSecondWindow;
        if (window > max)
        {
            return byMinute
                ? $"'window' is at most {DurationText.Format(max)} (per-minute statistics are kept that long)."
                : $"With a step shorter than a minute (or not whole minutes), 'window' is at most {DurationText.Format(max)} (per-second statistics are kept that long); take a step of 1m or more.";
        }
        return null;
    }

    /// <summary>Reads the series ending now. Call <see cref="Check"/> first.</summary>
    /// <exception cref="RedisException">Redis cannot be read.</exception>
    public async Task<VersionStatsSeries> ReadAsync(string model, int version, TimeSpan window, TimeSpan step, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var nowSecond = now.ToUnixTimeSeconds();
        var byMinute = IsMinuteStep(step);
        var unit = byMinute ? 60 : 1;
        var unitsPerStep = (long)step.TotalSeconds / unit;
        var points = (int)(window.Ticks / step.Ticks);
        // The last step ends with the current unit (minute or second), so the newest data is always in the last point.
        var lastUnit = nowSecond / unit;
        var firstUnit = lastUnit - points * unitsPerStep + 1;
        var versionText = version.ToString(CultureInfo.InvariantCulture);

        var batch = redis.GetDatabase().CreateBatch();
        var reads = new Task<HashEntry[]>[points * unitsPerStep];
        for (var i = 0; i < reads.Length; i++)
        {
            var u = firstUnit + i;
            reads[i] = batch.HashGetAllAsync(byMinute ? FleetStatsLayout.MinuteKeyFor(model, versionText, u) : FleetStatsLayout.KeyFor(model, versionText, u));
        }
        batch.Execute();
        await Task.WhenAll(reads).WaitAsync(cancellationToken);

        var names = FleetStatsLayout.Counters.ToDictionary(c => c.Field, c => c.Name, StringComparer.Ordinal);
        var series = new List<SeriesPoint>(points);
        for (var p = 0; p < points; p++)
        {
            var stats = new VersionStats();
            var counts = FleetStatsLayout.Counters.ToDictionary(c => c.Name, _ => 0L, StringComparer.Ordinal);
            for (var i = p * unitsPerStep; i < (p + 1) * unitsPerStep; i++)
            {
                foreach (var entry in reads[i].Result)
                {
                    if (!entry.Value.TryParse(out long value))
                    {
                        continue;
                    }
                    var field = entry.Name.ToString();
                    stats.Add(field, value);
                    if (names.TryGetValue(field, out var name))
                    {
                        counts[name] += value;
                    }
                }
            }
            var startSecond = (firstUnit + p * unitsPerStep) * unit;
            var seconds = (int)Math.Min(step.TotalSeconds, nowSecond - startSecond + 1);
            series.Add(new SeriesPoint(DateTimeOffset.FromUnixTimeSeconds(startSecond), seconds, counts,
                Math.Round(stats.Requests / (double)seconds, 3),
                stats.Requests == 0 ? null : Math.Round(stats.ErrorRate, 6),
                Round(stats.PercentileMs(0.5)), Round(stats.PercentileMs(0.99))));
        }
        return new VersionStatsSeries(model, version, DurationText.Format(window), DurationText.Format(step),
            DateTimeOffset.FromUnixTimeSeconds(firstUnit * unit), now, FleetStatsLayout.Counters.Select(c => c.Name).ToList(), series);
    }

    private static bool IsMinuteStep(TimeSpan step) => step.Ticks % TimeSpan.TicksPerMinute == 0;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}
