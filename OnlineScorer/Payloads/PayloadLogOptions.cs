using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>How the scorer ships payload records to Redis (section <c>PayloadLog</c>); which requests are recorded is per model, in its serving settings.</summary>
public sealed class PayloadLogOptions
{
    public const string SectionName = "PayloadLog";

    /// <summary>Records waiting in memory for Redis; a record that finds the buffer full is dropped and counted. Default 10000.</summary>
    [Range(1, 1_000_000)]
    public int BufferCapacity { get; set; } = 10_000;

    /// <summary>Records sent to Redis in one round trip. Default 256.</summary>
    [Range(1, 10_000)]
    public int ShipBatchSize { get; set; } = 256;

    /// <summary>Approximate length the stream is trimmed to on every add (<c>MAXLEN ~</c>), bounding Redis memory if the registry stops draining. Default 100000.</summary>
    [Range(100, 100_000_000)]
    public long StreamMaxLength { get; set; } = 100_000;
}
