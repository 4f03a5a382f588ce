using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Inference.Fleet;

/// <summary>Fleet statistics settings (section <c>FleetStats</c>), read by the scorers that write them and the registry that reads them.</summary>
public sealed class FleetStatsOptions
{
    public const string SectionName = "FleetStats";

    /// <summary>Whether the scorer writes its per-version statistics to Redis. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a second's statistics live in Redis (its key's TTL), and so the longest window that can be read. Default 1800 (30 minutes).</summary>
    [Range(60, 86_400)]
    public int RetentionSeconds { get; set; } = 1800;

    /// <summary>
    /// How long a minute's statistics live in Redis, and so the longest window a series can show (<c>/stats/series</c>).
    /// Default 25200 (7 hours: a 6-hour chart stays full).
    /// </summary>
    [Range(3600, 7 * 86_400)]
    public int MinuteRetentionSeconds { get; set; } = 25_200;

    /// <summary>How often a scorer adds what it counted to Redis, in milliseconds. Default 1000.</summary>
    [Range(100, 10_000)]
    public int FlushIntervalMilliseconds { get; set; } = 1000;
}
