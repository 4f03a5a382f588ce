using System.ComponentModel.DataAnnotations;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Reconciliation with the registry (section <c>Reconciliation</c>).</summary>
public sealed class ReconciliationOptions
{
    public const string SectionName = "Reconciliation";

    /// <summary>Seconds between full reconciliations, which heal missed events. Default 30.</summary>
    [Range(1, 3600)]
    public int IntervalSeconds { get; set; } = 30;

    /// <summary>Seconds before retrying when the registry cannot be reached. Default 2.</summary>
    [Range(1, 600)]
    public int RetrySeconds { get; set; } = 2;
}
