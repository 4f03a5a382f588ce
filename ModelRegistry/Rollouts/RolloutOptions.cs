using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>The rollout controller (section <c>Rollouts</c>).</summary>
public sealed class RolloutOptions
{
    public const string SectionName = "Rollouts";

    /// <summary>How often the controller looks at running rollouts and guards, in milliseconds. Default 1000.</summary>
    [Range(50, 60_000)]
    public int ControllerIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Redis key of the leader lock: one registry replica runs the controller. Default <c>mlplatform:rollouts:leader</c>.</summary>
    [Required]
    public string LeaderLockKey { get; set; } = "mlplatform:rollouts:leader";

    /// <summary>How long the leader lock lives without renewal, in seconds; a dead leader is replaced after it. Default 10.</summary>
    [Range(1, 300)]
    public int LeaderLockSeconds { get; set; } = 10;

    /// <summary>
    /// How far a canary's server-error rate must also exceed production's, measured in the same windows, for a breach (besides the rollout's
    /// <c>maxErrorRate</c>). Default 0.01.
    /// </summary>
    [Range(0.0, 1.0)]
    public double ErrorRateMargin { get; set; } = 0.01;

    /// <summary>How many times production's p99 in the same windows a canary's p99 must also reach for a breach (besides <c>maxP99Ms</c>). Default 1.5.</summary>
    [Range(1.0, 1000.0)]
    public double P99Factor { get; set; } = 1.5;
}
