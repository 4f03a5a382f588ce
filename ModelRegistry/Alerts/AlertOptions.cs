using System.ComponentModel.DataAnnotations;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>Alert rules and notification webhooks (section <c>Alerts</c>).</summary>
public sealed class AlertOptions : IValidatableObject
{
    public const string SectionName = "Alerts";

    /// <summary>How often rules are evaluated, in milliseconds. Default 15000.</summary>
    [Range(100, 3_600_000)]
    public int EvaluationIntervalMilliseconds { get; set; } = 15_000;

    public List<AlertRule> Rules { get; set; } = [];

    public List<WebhookOptions> Webhooks { get; set; } = [];

    /// <summary>
    /// Allow webhook URLs that name a loopback, link-local, private or cluster-internal target (or one of the platform's services).
    /// Default false: such URLs stop the registry at start, and an address that resolves to one is refused at send time.
    /// </summary>
    public bool AllowPrivateWebhookTargets { get; set; }

    /// <summary>Time one webhook POST may take, in seconds, connection included. Default 10.</summary>
    [Range(1, 300)]
    public int WebhookTimeoutSeconds { get; set; } = 10;

    /// <summary>Largest webhook response body read, in bytes; a larger one fails the attempt. Default 64 KiB.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int WebhookMaxResponseBytes { get; set; } = 64 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(rule, new ValidationContext(rule), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"Alerts:Rules:{i}: {result.ErrorMessage}");
            }
            if (!AlertRule.Kinds.Contains(rule.Kind))
            {
                yield return new ValidationResult($"Alerts:Rules:{i}:Kind '{rule.Kind}' is not one of {string.Join(", ", AlertRule.Kinds)}.");
            }
            if (!names.Add(rule.Name))
            {
                yield return new ValidationResult($"Alerts:Rules:{i}:Name '{rule.Name}' is used twice.");
            }
            if (rule.ResolveThreshold is { } resolve && resolve > rule.Threshold)
            {
                yield return new ValidationResult($"Alerts:Rules:{i}:ResolveThreshold must not exceed Threshold (it is the lower edge of the hysteresis band).");
            }
        }
        for (var i = 0; i < Webhooks.Count; i++)
        {
            var hook = Webhooks[i];
            if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                yield return new ValidationResult($"Alerts:Webhooks:{i}:Url must be an absolute http(s) URL.");
            }
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(hook, new ValidationContext(hook), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"Alerts:Webhooks:{i}: {result.ErrorMessage}");
            }
        }
    }
}

/// <summary>One alert rule; the value it watches fires the alert above <see cref="Threshold"/> and resolves it at or below <see cref="ResolveThreshold"/>.</summary>
public sealed class AlertRule
{
    public const string ErrorRate = "error-rate";
    public const string P99 = "p99";
    public const string BatchQueueDepth = "batch-queue-depth";
    public const string BatchJobFailures = "batch-job-failures";
    public const string ModelLoadFailures = "model-load-failures";
    public const string ScorerNotReady = "scorer-not-ready";
    public const string ServiceCrashLoop = "service-crash-loop";
    public const string AccuracyDrop = Quality.QualityAlerts.AccuracyDrop;
    public const string Drift = Quality.QualityAlerts.Drift;
    public const string ShadowDisagreement = Quality.QualityAlerts.ShadowDisagreement;

    /// <summary>The share of a version's requests that were the clients' errors: never judged by rollouts or the guard, so a broken client is heard here.</summary>
    public const string ClientErrors = "client-errors";
    public static readonly string[] Kinds = [ErrorRate, P99, ClientErrors, BatchQueueDepth, BatchJobFailures, ModelLoadFailures, ScorerNotReady,
        ServiceCrashLoop, AccuracyDrop, Drift, ShadowDisagreement];

    /// <summary>The alert's name (<c>alert</c> in notifications). Required, unique.</summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9._-]{0,63}$")]
    public string Name { get; set; } = "";

    /// <summary>
    /// What is watched: error-rate (server errors), p99, client-errors (per model's production and canary versions), batch-queue-depth,
    /// batch-job-failures, model-load-failures, scorer-not-ready, service-crash-loop; the quality loop's accuracy-drop and drift
    /// (production and canary) and shadow-disagreement (the shadow version), for models with a payload log (docs/quality.md).
    /// </summary>
    [Required]
    public string Kind { get; set; } = "";

    /// <summary>For error-rate and p99: the model watched; empty for every model with a production alias.</summary>
    public string? Model { get; set; }

    /// <summary>Fires above this value (a rate 0–1, milliseconds, chunks, failures, scorers or crashes by kind).</summary>
    [Range(0.0, double.MaxValue)]
    public double Threshold { get; set; }

    /// <summary>Resolves at or below this value. Default 80 % of <see cref="Threshold"/> (0 for counts of one).</summary>
    public double? ResolveThreshold { get; set; }

    /// <summary>The window the value is measured over, in seconds (error-rate, p99, failures). Default 300.</summary>
    [Range(1, 86_400)]
    public int WindowSeconds { get; set; } = 300;

    /// <summary>
    /// For error-rate and p99: requests the window needs before it says anything; for accuracy-drop: labelled requests (of the version
    /// and of its baseline); for drift: live requests; for shadow-disagreement: compared requests. Default 20.
    /// </summary>
    [Range(1, 10_000_000)]
    public long MinRequests { get; set; } = 20;

    /// <summary><c>warning</c> or <c>critical</c>. Default warning.</summary>
    [RegularExpression("^(warning|critical)$")]
    public string Severity { get; set; } = "warning";

    public double EffectiveResolveThreshold => ResolveThreshold ?? Threshold * 0.8;
}

/// <summary>A webhook alerts are POSTed to.</summary>
public sealed class WebhookOptions
{
    [Required]
    public string Url { get; set; } = "";

    /// <summary>Attempts per notification before it is given up (logged). Default 5.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before the second attempt in milliseconds; doubled each time. Default 500.</summary>
    [Range(10, 60_000)]
    public int InitialBackoffMilliseconds { get; set; } = 500;
}
