namespace MlPlatform.Contracts;

/// <summary>
/// A progressive rollout (<see cref="KindRollout"/>: the <c>canary</c> alias takes growing weights) or a guard
/// (<see cref="KindGuard"/>: a version just promoted by hand is watched for a while). Stored whole as JSON; survives restarts.
/// </summary>
public sealed record Rollout
{
    public const string KindRollout = "rollout";
    public const string KindGuard = "guard";
    public const string StatusRunning = "running";
    public const string StatusSucceeded = "succeeded";
    public const string StatusFailed = "failed";
    public const string StatusAborted = "aborted";

    public required string Id { get; init; }
    public required string Model { get; init; }
    public required string Kind { get; init; }
    public required int Version { get; init; }
    /// <summary>The production version when the rollout started (for a guard, the one it replaced).</summary>
    public int? BaselineVersion { get; init; }
    public required string Status { get; init; }
    public required int[] Steps { get; init; }
    public required string StepInterval { get; init; }
    public required double MaxErrorRate { get; init; }
    public required double MaxP99Ms { get; init; }
    public required long MinRequests { get; init; }
    public required string Deadline { get; init; }
    /// <summary>Index into <see cref="Steps"/> of the step being analysed.</summary>
    public int CurrentStep { get; init; }
    /// <summary>The canary's share of unversioned traffic now; null once the rollout is over (and always for a guard).</summary>
    public int? CurrentWeight { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset StepStartedAt { get; init; }
    /// <summary>When the controller next analyses (an inconclusive step waits another interval, its window still starting at the step).</summary>
    public required DateTimeOffset NextAnalysisAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Why the rollout ended, with the measured figures when it failed.</summary>
    public string? Reason { get; init; }
    public required string Actor { get; init; }
    /// <summary>Why <see cref="Actor"/> started it (the start request's <c>reason</c>); absent when none was given, and for guards.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? StartReason { get; init; }
    public IReadOnlyList<RolloutAnalysis> Analyses { get; init; } = [];
}

/// <summary>One analysis of a step's window: what was measured, and what was decided.</summary>
public sealed record RolloutAnalysis(
    DateTimeOffset At,
    int Step,
    int? Weight,
    string Window,
    long Requests,
    long Errors,
    double ErrorRate,
    double? P99Ms,
    long ProductionRequests,
    double ProductionErrorRate,
    string Decision,
    string Reason);

/// <summary>
/// Body of <c>POST /v1/models/{name}/rollouts</c>; everything but <see cref="Version"/> has a default. <see cref="Reason"/> (optional,
/// recorded as the rollout's <c>startReason</c> and in the canary's alias history) says why.
/// </summary>
public sealed record StartRolloutRequest(
    int? Version,
    int[]? Steps,
    string? StepInterval,
    double? MaxErrorRate,
    double? MaxP99Ms,
    long? MinRequests,
    string? Deadline,
    bool? Force = null,
    string? Reason = null)
{
    public static readonly int[] DefaultSteps = [10, 25, 50, 100];
    public const string DefaultStepInterval = "30s";
    public const double DefaultMaxErrorRate = 0.01;
    public const double DefaultMaxP99Ms = 250;
    public const long DefaultMinRequests = 50;
    public const string DefaultDeadline = "10m";
}
