using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>The guard after a plain promotion of <c>production</c> (section <c>Guard</c>).</summary>
public sealed class GuardOptions : IValidatableObject
{
    public const string SectionName = "Guard";

    /// <summary>Whether a version promoted with <c>PUT …/aliases/production</c> is watched. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long the new version is watched, in seconds. Default 600.</summary>
    [Range(1, 86_400)]
    public int PeriodSeconds { get; set; } = 600;

    /// <summary>The window each analysis reads, in seconds; one analysis per window. Default 60.</summary>
    [Range(1, 3600)]
    public int WindowSeconds { get; set; } = 60;

    /// <summary>Requests a window needs before it can judge; fewer judge nothing (never a rollback). Default 50.</summary>
    [Range(1, 10_000_000)]
    public long MinRequests { get; set; } = 50;

    /// <summary>Server-error rate above which the version is rolled back (with <see cref="ErrorRateMargin"/> over the baseline). Default 0.05.</summary>
    [Range(0.0, 1.0)]
    public double MaxErrorRate { get; set; } = 0.05;

    /// <summary>p99 server latency in milliseconds above which the version is rolled back (with <see cref="P99Factor"/> over the baseline). Default 1000.</summary>
    [Range(0.001, 600_000)]
    public double MaxP99Ms { get; set; } = 1000;

    /// <summary>
    /// How far the server-error rate must also exceed the previous production version's rate (over <see cref="BaselineWindowSeconds"/> before the
    /// promotion) for a breach. Default 0.05.
    /// </summary>
    [Range(0.0, 1.0)]
    public double ErrorRateMargin { get; set; } = 0.05;

    /// <summary>How many times the previous production version's p99 the p99 must also reach for a breach. Default 1.5.</summary>
    [Range(1.0, 1000.0)]
    public double P99Factor { get; set; } = 1.5;

    /// <summary>
    /// The window before the promotion over which the previous production version's routed traffic is the baseline, in seconds (at most the
    /// statistics' retention reaches back). A baseline with fewer than <see cref="MinRequests"/> requests is none: the absolute thresholds alone
    /// decide. Default 300.
    /// </summary>
    [Range(1, 86_400)]
    public int BaselineWindowSeconds { get; set; } = 300;

    /// <summary>Quality gates judged with every window of the guard, on the version since its promotion (<c>Guard:Gates:AccuracyDropMax</c> …); none by default.</summary>
    public GuardGateOptions Gates { get; set; } = new();

    // Data annotations do not descend into Gates: its bounds are checked here, with the setting's full name.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(Gates, new ValidationContext(Gates), results, validateAllProperties: true);
        return results.Select(r => new ValidationResult($"Guard:Gates: {r.ErrorMessage}", r.MemberNames.Select(m => $"Gates.{m}")));
    }
}

/// <summary>The guard's quality gates (section <c>Guard:Gates</c>); an unset gate is not judged.</summary>
public sealed class GuardGateOptions
{
    [Range(0.0, 1.0)]
    public double? AccuracyDropMax { get; set; }

    [Range(0.0, 100.0)]
    public double? DriftPsiMax { get; set; }

    [Range(0.0, 1.0)]
    public double? ShadowAgreementMin { get; set; }

    public QualityGates? ToGates() =>
        new QualityGates(AccuracyDropMax, DriftPsiMax, ShadowAgreementMin) is { Any: true } gates ? gates : null;
}
