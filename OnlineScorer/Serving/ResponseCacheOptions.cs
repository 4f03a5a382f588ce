using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>The Redis response cache (section <c>ResponseCache</c>); each model switches it on in its serving settings.</summary>
public sealed class ResponseCacheOptions
{
    public const string SectionName = "ResponseCache";

    /// <summary>How long an entry lives, in seconds. Default 300.</summary>
    [Range(1, 7 * 24 * 3600)]
    public int TtlSeconds { get; set; } = 300;

    /// <summary>Largest cached response (outputs only) in bytes; larger responses are not cached. Default 1 MiB.</summary>
    [Range(64, 512L << 20)]
    public int MaxEntryBytes { get; set; } = 1 << 20;
}
