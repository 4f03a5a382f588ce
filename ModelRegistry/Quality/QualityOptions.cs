using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>The payload log's files and the quality loop's judgements (section <c>Quality</c>).</summary>
public sealed class QualityOptions
{
    public const string SectionName = "Quality";

    /// <summary>How often the leader moves records from the Redis stream to the JSONL files, in milliseconds. Default 500.</summary>
    [Range(50, 60_000)]
    public int DrainIntervalMilliseconds { get; set; } = 500;

    /// <summary>Records read from the stream per round trip (a tick reads until the stream is empty). Default 1000.</summary>
    [Range(1, 100_000)]
    public int DrainBatchSize { get; set; } = 1000;

    /// <summary>Days an hour file of the payload log is kept (by the hour it covers). Default 7.</summary>
    [Range(1, 3650)]
    public int PayloadRetentionDays { get; set; } = 7;

    /// <summary>The most records one <c>GET .../payloads</c> returns (its <c>limit</c> defaults to 1000). Default 100000.</summary>
    [Range(1, 10_000_000)]
    public int MaxPayloadsPerRead { get; set; } = 100_000;

    /// <summary>The longest window a quality, drift or shadow read may ask for, in hours. Default 168 (a week).</summary>
    [Range(1, 24 * 3650)]
    public int MaxWindowHours { get; set; } = 168;

    /// <summary>The most logged records a quality, drift or shadow read looks at (the newest in the window). Default 200000.</summary>
    [Range(100, 10_000_000)]
    public int MaxRecordsPerAnalysis { get; set; } = 200_000;

    /// <summary>The most labels one <c>POST .../feedback</c> body may hold. Default 100000.</summary>
    [Range(1, 10_000_000)]
    public int MaxFeedbackItems { get; set; } = 100_000;

    /// <summary>The largest feedback body the registry reads, in bytes (the gateway's default body limit applies before it). Default 16 MiB.</summary>
    [Range(1024, 1L << 31)]
    public long MaxFeedbackBytes { get; set; } = 16L << 20;

    /// <summary>How many of a version's first logged requests make its drift reference. Default 500.</summary>
    [Range(10, 1_000_000)]
    public int DriftReferenceRecords { get; set; } = 500;

    /// <summary>How many of the most drifting features a drift report lists. Default 10.</summary>
    [Range(1, 10_000)]
    public int DriftTopFeatures { get; set; } = 10;

    /// <summary>
    /// Labelled rows the version and its baseline each need in a rollout step's (or guard window's) window before an
    /// <c>accuracyDropMax</c> gate is judged; fewer make it inconclusive, which never holds a step. Default 50.
    /// </summary>
    [Range(1, 10_000_000)]
    public int GateMinLabelled { get; set; } = 50;

    /// <summary>
    /// Live requests (after the drift reference) a <c>driftPsiMax</c> gate, and compared shadow requests a <c>shadowAgreementMin</c>
    /// gate, needs in the window before it is judged; fewer make it inconclusive. Default 50.
    /// </summary>
    [Range(1, 10_000_000)]
    public int GateMinRequests { get; set; } = 50;
}
