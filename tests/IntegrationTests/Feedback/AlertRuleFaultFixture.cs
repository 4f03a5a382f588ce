using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace MlPlatform.IntegrationTests.Feedback;

/// <summary>
/// A platform whose alert rules watch the batch queue, dead-lettered batch chunks and the online scorers, with low thresholds and short
/// windows, and whose tests stop and kill those services; a <see cref="WebhookListener"/> receives the notifications. Its guard judges
/// p99 against a low threshold (<see cref="GuardMaxP99Ms"/>), for the guard's latency test.
/// </summary>
public sealed class AlertRuleFaultFixture : PlatformFixture, IAsyncLifetime
{
    public const string QueueDepthRule = "batch-backlog";
    public const double QueueDepthThreshold = 100;
    public const string JobFailuresRule = "batch-failures";
    public const int JobFailuresWindowSeconds = 10;
    public const string ScorerRule = "scorer-down";
    // A dead replica is noticed when its heartbeat key expires (10 s) and forgotten a window after its last beat: long enough for
    // the restarted replica to become ready first, so the alert does not resolve and fire again while it starts.
    public const int ScorerWindowSeconds = 60;
    public const double GuardMaxP99Ms = 50;
    public const int GuardBaselineWindowSeconds = 10;

    private readonly WebhookListener _webhooks = new();

    /// <summary>Every webhook body received, in order.</summary>
    public ConcurrentQueue<JsonDocument> Webhooks => _webhooks.Received;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "Registry:Alerts:EvaluationIntervalMilliseconds=500",
        // The listener is on loopback, which webhooks may only reach with this switch.
        "Registry:Alerts:AllowPrivateWebhookTargets=true",
        $"Registry:Alerts:Webhooks:0:Url={_webhooks.Url}",
        "Registry:Alerts:Webhooks:0:InitialBackoffMilliseconds=100",
        $"Registry:Alerts:Rules:0:Name={QueueDepthRule}",
        "Registry:Alerts:Rules:0:Kind=batch-queue-depth",
        $"Registry:Alerts:Rules:0:Threshold={QueueDepthThreshold.ToString(CultureInfo.InvariantCulture)}",
        "Registry:Alerts:Rules:0:ResolveThreshold=0",
        $"Registry:Alerts:Rules:1:Name={JobFailuresRule}",
        "Registry:Alerts:Rules:1:Kind=batch-job-failures",
        "Registry:Alerts:Rules:1:Threshold=0",
        $"Registry:Alerts:Rules:1:WindowSeconds={JobFailuresWindowSeconds}",
        "Registry:Alerts:Rules:1:Severity=critical",
        $"Registry:Alerts:Rules:2:Name={ScorerRule}",
        "Registry:Alerts:Rules:2:Kind=scorer-not-ready",
        "Registry:Alerts:Rules:2:Threshold=0",
        $"Registry:Alerts:Rules:2:WindowSeconds={ScorerWindowSeconds}",
        "Registry:Alerts:Rules:2:Severity=critical",
        // A chunk that always fails is dead-lettered after two deliveries, three seconds apart.
        "BatchScorer:BatchWorkerOptions:ClaimIdleTime=00:00:03",
        "BatchScorer:BatchWorkerOptions:ClaimRenewInterval=00:00:01",
        "BatchScorer:BatchWorkerOptions:MaxDeliveries=2",
        "BatchScorer:BatchWorkerOptions:ReconcileInterval=00:00:02",
        // The guard judges latency here (GuardLatencyTests): short windows and a p99 threshold a slow version crosses, instead of the
        // 60 s every other test platform keeps (PlatformFixture) so that promotions without a baseline never roll back on a loaded machine's p99.
        "Registry:Rollouts:ControllerIntervalMilliseconds=250",
        "Registry:Guard:WindowSeconds=3",
        "Registry:Guard:MinRequests=5",
        $"Registry:Guard:MaxP99Ms={GuardMaxP99Ms.ToString(CultureInfo.InvariantCulture)}",
        $"Registry:Guard:BaselineWindowSeconds={GuardBaselineWindowSeconds}",
    ];

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _webhooks.DisposeAsync();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AlertRuleFaultCollection : ICollectionFixture<AlertRuleFaultFixture>
{
    public const string Name = "Feedback alert rule faults";
}
