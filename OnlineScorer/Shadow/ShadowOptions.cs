using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>How the scorer runs copies of production requests on the <c>shadow</c> alias (section <c>Shadow</c>).</summary>
public sealed class ShadowOptions
{
    public const string SectionName = "Shadow";

    /// <summary>Copies waiting for the shadow version; a copy that finds the queue full is dropped and counted. Default 256.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 256;

    /// <summary>Shadow requests run at once (production requests are never limited by it). Default 1.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 1;
}
