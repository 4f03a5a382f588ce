using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Liveness of the scorer (section <c>Liveness</c>).</summary>
public sealed class LivenessOptions
{
    public const string SectionName = "Liveness";

    /// <summary>
    /// How long, in seconds, the scorer may be unable to serve any model while the registry has models with a <c>production</c> alias
    /// before <c>/alive</c> reports it unhealthy, so that its orchestrator restarts it. Default 120.
    /// </summary>
    [Range(1, 86_400)]
    public int NoServableModelSeconds { get; set; } = 120;
}
