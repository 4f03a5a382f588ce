using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Request and capacity limits (section <c>InferenceLimits</c>); documented in docs/online-scorer.md.</summary>
public sealed class InferenceLimitsOptions
{
    public const string SectionName = "InferenceLimits";

    /// <summary>Largest request body in bytes, JSON and binary tensors together; larger bodies get 413. Default 32 MiB (the gateway's inference body limit).</summary>
    [Range(1024, 1L << 31)]
    public long MaxRequestBodyBytes { get; set; } = 32L << 20;

    /// <summary>Most elements one input tensor may have; more gets 413. Default 16,777,216.</summary>
    [Range(1, int.MaxValue)]
    public long MaxElementsPerInput { get; set; } = 16L << 20;

    /// <summary>
    /// Most versions loaded on demand (<c>/versions/{v}</c>) that no alias routes to; beyond it the least recently used is evicted
    /// (after its in-flight requests finish). Versions the <c>production</c>/<c>canary</c> aliases route to are always loaded. Default 8.
    /// </summary>
    [Range(1, 1024)]
    public int MaxLoadedVersions { get; set; } = 8;
}
