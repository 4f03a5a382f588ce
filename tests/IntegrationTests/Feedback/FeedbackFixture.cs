using System.Collections.Concurrent;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// A platform of the feedback loops' own, with intervals in seconds so rollouts, the guard and alerts act while a test waits,
/// and a <see cref="WebhookListener"/> that the registry notifies of alerts.
/// </summary>
public sealed class FeedbackFixture : PlatformFixture, IAsyncLifetime
{
    private readonly WebhookListener _webhooks = new();

    /// <summary>Every webhook body received, in order.</summary>
    public ConcurrentQueue<JsonDocument> Webhooks => _webhooks.Received;

    /// <summary>The header names of each request <see cref="Webhooks"/> received.</summary>
    public ConcurrentQueue<string[]> WebhookHeaders => _webhooks.Headers;

    /// <summary>A second webhook that always answers 500; its URL carries a token in its query, which logs must never show.</summary>
    public WebhookListener FailingWebhook { get; } = new(status: 500, pathAndQuery: $"/hooks/failing?token={FailingWebhookToken}");

    public const string FailingWebhookToken = "webhook-secret-token-0123";

    /// <summary>The failing webhook's <c>MaxAttempts</c>.</summary>
    public const int FailingWebhookMaxAttempts = 2;

    /// <summary>The registry's console log, collected from the start.</summary>
    public ResourceLogs RegistryLogs { get; private set; } = null!;

    /// <summary>The model the fixture's error-rate alert rule watches.</summary>
    public const string AlertedModel = "alerted";

    /// <summary>The models the quality alert rules watch (tests/IntegrationTests/Quality/QualityAlertTests).</summary>
    public const string DriftingModel = "drifting";
    public const string ShadowedModel = "shadowed";
    public const string LabelledModel = "labelled";
    /// <summary>The model whose drift reference comes from a batch job (tests/IntegrationTests/Quality/DriftReferenceTests).</summary>
    public const string ReferencedModel = "referenced";

    /// <summary>The guard's accuracy gate (<c>Guard:Gates:AccuracyDropMax</c>, tests/IntegrationTests/Quality/GuardQualityGateTests).</summary>
    public const double GuardAccuracyDropMax = 0.02;

    /// <summary>
    /// The labelled requests the gate needs on each side (<c>Quality:GateMinLabelled</c>). The gate guards every promotion of this platform,
    /// but only a model with classification quality settings and that many labels on both sides is judged: QualityAlertTests labels 60 a
    /// side of its swapped version, which must stay production for its accuracy-drop alert, so the bar is above that; the other tests
    /// of this platform send no labels.
    /// </summary>
    public const int GuardGateMinLabelled = 80;

    /// <summary>The model the fixture's client-errors alert rule watches.</summary>
    public const string MisusedModel = "misused";

    protected override IEnumerable<string> ExtraArguments =>
    [
        "Registry:Rollouts:ControllerIntervalMilliseconds=250",
        // The gateway's client-error budget (on by default) off: OutcomeTests floods the scorer with malformed requests of the shared
        // reader key on purpose (80 in a row, then a loop aimed at a pinned canary for as long as its rollout runs) to prove that the
        // guard and rollouts ignore client errors even when nothing at the gateway stops them; with the budget on, the key would get 429
        // after 200 errors in 10 s, and every later test of this platform using that key too. The budget itself: GatewayLimitsFixture.
        "Gateway:ClientErrors:Enabled=false",
        "Registry:Guard:Enabled=true",
        "Registry:Guard:PeriodSeconds=120",
        "Registry:Guard:WindowSeconds=3",
        "Registry:Guard:MinRequests=10",
        "Registry:Guard:MaxErrorRate=0.5",
        $"Registry:Guard:Gates:AccuracyDropMax={GuardAccuracyDropMax.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        $"Registry:Quality:GateMinLabelled={GuardGateMinLabelled}",
        "Registry:Alerts:EvaluationIntervalMilliseconds=500",
        // The listeners are on loopback, which webhooks may only reach with this switch.
        "Registry:Alerts:AllowPrivateWebhookTargets=true",
        $"Registry:Alerts:Webhooks:0:Url={_webhooks.Url}",
        "Registry:Alerts:Webhooks:0:MaxAttempts=5",
        "Registry:Alerts:Webhooks:0:InitialBackoffMilliseconds=100",
        $"Registry:Alerts:Webhooks:1:Url={FailingWebhook.Url}",
        $"Registry:Alerts:Webhooks:1:MaxAttempts={FailingWebhookMaxAttempts}",
        "Registry:Alerts:Webhooks:1:InitialBackoffMilliseconds=100",
        "Registry:Alerts:Rules:0:Name=alerted-error-rate",
        "Registry:Alerts:Rules:0:Kind=error-rate",
        $"Registry:Alerts:Rules:0:Model={AlertedModel}",
        "Registry:Alerts:Rules:0:Threshold=0.5",
        "Registry:Alerts:Rules:0:ResolveThreshold=0.1",
        "Registry:Alerts:Rules:0:WindowSeconds=3",
        "Registry:Alerts:Rules:0:MinRequests=5",
        "Registry:Alerts:Rules:1:Name=load-failures",
        "Registry:Alerts:Rules:1:Kind=model-load-failures",
        "Registry:Alerts:Rules:1:Threshold=0",
        "Registry:Alerts:Rules:1:WindowSeconds=5",
        "Registry:Alerts:Rules:1:Severity=critical",
        "Registry:Alerts:Rules:2:Name=misused-client-errors",
        "Registry:Alerts:Rules:2:Kind=client-errors",
        $"Registry:Alerts:Rules:2:Model={MisusedModel}",
        "Registry:Alerts:Rules:2:Threshold=0.5",
        "Registry:Alerts:Rules:2:WindowSeconds=30",
        "Registry:Alerts:Rules:2:MinRequests=20",
        // Canary p99 is judged against production's in the same windows; on a loaded 2-core machine two samples of a few hundred
        // requests can differ by 2x by chance, so the tests ask for a clear margin (a slow version is 10x slower and more).
        "Registry:Rollouts:P99Factor=4",
        "OnlineScorer:Reconciliation:IntervalSeconds=2",
        // Quality rules over the whole hour of a test run, on their own models; a drift reference of 100 requests keeps the test short.
        "Registry:Quality:DriftReferenceRecords=100",
        "Registry:Alerts:Rules:3:Name=quality-drift",
        "Registry:Alerts:Rules:3:Kind=drift",
        $"Registry:Alerts:Rules:3:Model={DriftingModel}",
        "Registry:Alerts:Rules:3:Threshold=0.2",
        "Registry:Alerts:Rules:3:WindowSeconds=3600",
        "Registry:Alerts:Rules:3:MinRequests=50",
        "Registry:Alerts:Rules:4:Name=quality-shadow-disagreement",
        "Registry:Alerts:Rules:4:Kind=shadow-disagreement",
        $"Registry:Alerts:Rules:4:Model={ShadowedModel}",
        "Registry:Alerts:Rules:4:Threshold=0.2",
        "Registry:Alerts:Rules:4:WindowSeconds=3600",
        "Registry:Alerts:Rules:4:MinRequests=20",
        "Registry:Alerts:Rules:5:Name=quality-accuracy-drop",
        "Registry:Alerts:Rules:5:Kind=accuracy-drop",
        $"Registry:Alerts:Rules:5:Model={LabelledModel}",
        "Registry:Alerts:Rules:5:Threshold=0.1",
        "Registry:Alerts:Rules:5:WindowSeconds=3600",
        "Registry:Alerts:Rules:5:MinRequests=30",
        "Registry:Alerts:Rules:6:Name=quality-drift-batch-reference",
        "Registry:Alerts:Rules:6:Kind=drift",
        $"Registry:Alerts:Rules:6:Model={ReferencedModel}",
        "Registry:Alerts:Rules:6:Threshold=0.2",
        "Registry:Alerts:Rules:6:WindowSeconds=3600",
        "Registry:Alerts:Rules:6:MinRequests=50",
    ];

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        RegistryLogs = await ResourceLogs.StartAsync(App, "modelregistry");
    }

    // Re-implemented so the listener stops after the platform (whose registry may still be retrying a webhook).
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await RegistryLogs.DisposeAsync();
        await _webhooks.DisposeAsync();
        await FailingWebhook.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FeedbackCollection : ICollectionFixture<FeedbackFixture>
{
    public const string Name = "Feedback";
}
