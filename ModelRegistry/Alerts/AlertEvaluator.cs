using MlPlatform.Contracts;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MlPlatform.Inference.Fleet;
using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Fleet;
using MlPlatform.ModelRegistry.Quality;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>Evaluates the configured alert rules periodically on the leader replica; fires, keeps and resolves alerts with hysteresis.</summary>
public sealed partial class AlertEvaluator(AlertStore store, AlertCenter center, ModelStore models, FleetStatsReader stats, LeaderLock leader,
    IConnectionMultiplexer redis, QualityAlerts qualityAlerts, IOptions<AlertOptions> options, TimeProvider time,
    ILogger<AlertEvaluator> logger) : BackgroundService
{
    public const string BatchStream = BatchStreamKeys.Chunks;
    public const string BatchDeadLetterStream = BatchStreamKeys.DeadLetters;

    /// <summary>One measured subject of a rule; a null value says too little data to judge.</summary>
    private sealed record Observation(string Subject, string? Model, int? Version, double? Value, Dictionary<string, string> Links);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Rules.Count == 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.EvaluationIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!await leader.HoldAsync())
                {
                    continue;
                }
                foreach (var rule in options.Value.Rules)
                {
                    try
                    {
                        await EvaluateAsync(rule, stoppingToken);
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException or SqliteException or JsonException)
                    {
                        LogEvaluationFailed(logger, rule.Name, ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task EvaluateAsync(AlertRule rule, CancellationToken cancellationToken)
    {
        var firing = await store.FiringAsync(rule.Name, cancellationToken);
        var observations = await ObserveAsync(rule, cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var observation in observations)
        {
            seen.Add(observation.Subject);
            firing.TryGetValue(observation.Subject, out var current);
            await ApplyAsync(rule, observation, current, cancellationToken);
        }
        // Counting rules: a subject that no longer shows up counts zero, so its alert can resolve.
        if (rule.Kind is AlertRule.ModelLoadFailures or AlertRule.ScorerNotReady or AlertRule.ServiceCrashLoop)
        {
            foreach (var (subject, alert) in firing)
            {
                if (!seen.Contains(subject))
                {
                    await ApplyAsync(rule, new Observation(subject, alert.Model, alert.Version, 0, []), alert, cancellationToken);
                }
            }
        }
        // Version rules: an alert on a version that is no longer production or canary is still judged on its own window, so it
        // resolves once that window holds no requests (its traffic moved away) instead of firing forever.
        if (rule.Kind is AlertRule.ErrorRate or AlertRule.P99 or AlertRule.ClientErrors)
        {
            foreach (var (subject, alert) in firing)
            {
                if (!seen.Contains(subject) && alert.Model is { } model && alert.Version is { } version)
                {
                    var figures = await stats.ReadAsync(model, version, TimeSpan.FromSeconds(rule.WindowSeconds), cancellationToken);
                    var value = figures.Requests == 0 ? 0 : Measure(rule, figures);
                    await ApplyAsync(rule, new Observation(subject, model, version, value, []), alert, cancellationToken);
                }
            }
        }
    }

    /// <summary>The rule's value over one version's window; null while the window holds too few requests to judge.</summary>
    private static double? Measure(AlertRule rule, VersionStats figures) => rule.Kind switch
    {
        AlertRule.ClientErrors => figures.Requests < rule.MinRequests ? null : Math.Round((double)figures.ClientErrors / figures.Requests, 6),
        _ when figures.Judged < rule.MinRequests => null,
        AlertRule.ErrorRate => Math.Round(figures.ErrorRate, 6),
        _ => figures.PercentileMs(0.99),
    };

    private async Task ApplyAsync(AlertRule rule, Observation observation, Alert? current, CancellationToken cancellationToken)
    {
        switch (AlertHysteresis.Next(current is not null, observation.Value, rule.Threshold, rule.EffectiveResolveThreshold))
        {
            case AlertTransition.Fire:
                await center.FireAsync(rule.Name, observation.Subject, rule.Severity, observation.Model, observation.Version, observation.Value!.Value,
                    rule.Threshold, Describe(rule, observation), observation.Links, cancellationToken);
                break;
            case AlertTransition.Resolve:
                await center.ResolveAsync(current!, observation.Value!.Value, cancellationToken);
                break;
        }
    }

    private static string Describe(AlertRule rule, Observation o) => rule.Kind switch
    {
        AlertRule.ErrorRate => FormattableString.Invariant($"Error rate of {o.Model} version {o.Version} is {o.Value:0.####} over {rule.WindowSeconds}s (threshold {rule.Threshold})."),
        AlertRule.ClientErrors => FormattableString.Invariant($"{o.Value:0.####} of the requests to {o.Model} version {o.Version} were client errors over {rule.WindowSeconds}s (threshold {rule.Threshold}): a client is sending requests the model cannot take."),
        AlertRule.P99 => FormattableString.Invariant($"p99 latency of {o.Model} version {o.Version} is {o.Value:0.###} ms over {rule.WindowSeconds}s (threshold {rule.Threshold} ms)."),
        AlertRule.BatchQueueDepth => FormattableString.Invariant($"{o.Value} batch chunks are queued (threshold {rule.Threshold})."),
        AlertRule.BatchJobFailures => FormattableString.Invariant($"{o.Value} batch chunks were dead-lettered in {rule.WindowSeconds}s, failing their jobs (threshold {rule.Threshold})."),
        AlertRule.ModelLoadFailures => FormattableString.Invariant($"{o.Value} loads of {o.Model} failed in {rule.WindowSeconds}s (threshold {rule.Threshold})."),
        AlertRule.ServiceCrashLoop => FormattableString.Invariant(
            $"{o.Subject} exited without being asked to {o.Value} times in {rule.WindowSeconds}s (threshold {rule.Threshold}); the AppHost's supervisor stops restarting a service that loops, see the dashboard."),
        AlertRule.AccuracyDrop => FormattableString.Invariant($"Accuracy of {o.Model} version {o.Version} is {o.Value:0.####} below its baseline's over {rule.WindowSeconds}s (threshold {rule.Threshold})."),
        AlertRule.Drift => FormattableString.Invariant($"Inputs of {o.Model} version {o.Version} drifted from its reference: largest PSI {o.Value:0.###} over {rule.WindowSeconds}s (threshold {rule.Threshold})."),
        AlertRule.ShadowDisagreement => FormattableString.Invariant($"Shadow version {o.Version} of {o.Model} disagrees with production on {o.Value:0.####} of the compared requests over {rule.WindowSeconds}s (threshold {rule.Threshold})."),
        _ => FormattableString.Invariant($"{o.Value} online scorer replicas are not ready or stopped heartbeating in the last {rule.WindowSeconds}s (threshold {rule.Threshold})."),
    };

    private async Task<List<Observation>> ObserveAsync(AlertRule rule, CancellationToken cancellationToken)
    {
        var window = TimeSpan.FromSeconds(rule.WindowSeconds);
        var db = redis.GetDatabase();
        switch (rule.Kind)
        {
            case AlertRule.ErrorRate or AlertRule.P99 or AlertRule.ClientErrors:
            {
                var names = string.IsNullOrEmpty(rule.Model)
                    ? (await models.ListModelsAsync(0, 500, null, null, cancellationToken)).Items.Select(m => m.Name).ToList()
                    : [rule.Model];
                var observations = new List<Observation>();
                foreach (var name in names)
                {
                    var details = await models.GetModelAsync(name, cancellationToken);
                    var versions = details?.Aliases.Where(a => a.Name is RollbackPlanner.ProductionAlias or RolloutService.CanaryAlias)
                        .Select(a => a.Version).Distinct() ?? [];
                    foreach (var version in versions)
                    {
                        var figures = await stats.ReadAsync(name, version, window, cancellationToken);
                        var value = Measure(rule, figures);
                        observations.Add(new Observation($"{name}/{version}", name, version, value, new Dictionary<string, string>
                        {
                            ["stats"] = $"/v1/models/{name}/versions/{version.ToString(CultureInfo.InvariantCulture)}/stats?window={DurationText.Format(window)}",
                        }));
                    }
                }
                return observations;
            }
            case AlertRule.AccuracyDrop or AlertRule.Drift or AlertRule.ShadowDisagreement:
                return (await qualityAlerts.ObserveAsync(rule.Kind, rule.Model, window, rule.MinRequests, cancellationToken))
                    .Select(o => new Observation(o.Subject, o.Model, o.Version, o.Value, o.Links)).ToList();
            case AlertRule.BatchQueueDepth:
                return [new Observation(BatchStream, null, null, await db.StreamLengthAsync(BatchStream), new() { ["jobs"] = "/v1/batch/jobs" })];
            case AlertRule.BatchJobFailures:
            {
                var recent = await db.StreamRangeAsync(BatchDeadLetterStream, MinId(window), "+");
                return [new Observation(BatchDeadLetterStream, null, null, recent.Length, new() { ["jobs"] = "/v1/batch/jobs" })];
            }
            case AlertRule.ModelLoadFailures:
            {
                var counts = new Dictionary<(string Model, int? Version), int>();
                foreach (var entry in await db.StreamRangeAsync(RegistryEvents.LogStream, MinId(window), "+", count: 10_000))
                {
                    using var json = JsonDocument.Parse(entry[RegistryEvents.LogStreamField].ToString());
                    var root = json.RootElement;
                    if (root.TryGetProperty("type", out var type) && type.GetString() == RegistryEvents.LoadFailed && root.TryGetProperty("model", out var model))
                    {
                        var key = (model.GetString() ?? "", root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : (int?)null);
                        counts[key] = counts.GetValueOrDefault(key) + 1;
                    }
                }
                return counts.GroupBy(c => c.Key.Model).Select(g => new Observation(g.Key, g.Key, g.Max(c => c.Key.Version), g.Sum(c => c.Value),
                    new Dictionary<string, string> { ["model"] = $"/v1/models/{g.Key}" })).ToList();
            }
            case AlertRule.ServiceCrashLoop:
            {
                // The AppHost's supervisor appends one service-crashed event per unrequested exit (docs/deployment.md).
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var entry in await db.StreamRangeAsync(RegistryEvents.LogStream, MinId(window), "+", count: 10_000))
                {
                    using var json = JsonDocument.Parse(entry[RegistryEvents.LogStreamField].ToString());
                    var root = json.RootElement;
                    if (root.TryGetProperty("type", out var type) && type.GetString() == RegistryEvents.ServiceCrashed
                        && root.TryGetProperty("service", out var service) && service.GetString() is { Length: > 0 } name)
                    {
                        counts[name] = counts.GetValueOrDefault(name) + 1;
                    }
                }
                return counts.Select(c => new Observation(c.Key, null, null, c.Value, [])).ToList();
            }
            default:
            {
                // Replicas heard from within the window: each counts if its heartbeat says not ready, or has expired (it died without
                // stopping). A dead replica is forgotten one window after its last heartbeat, so the alert resolves once its
                // replacement serves; a replica that stopped on purpose has already left the set.
                var now = time.GetUtcNow();
                await db.SortedSetRemoveRangeByScoreAsync(FleetStatsLayout.ScorerFleetKey, double.NegativeInfinity,
                    (now - window).ToUnixTimeMilliseconds(), Exclude.Stop);
                var instances = await db.SortedSetRangeByRankAsync(FleetStatsLayout.ScorerFleetKey);
                var beats = instances.Length == 0 ? []
                    : await db.StringGetAsync(instances.Select(i => (RedisKey)(FleetStatsLayout.ScorerHeartbeatPrefix + i)).ToArray());
                var notReady = beats.Count(b => b.IsNull || b == FleetStatsLayout.NotReady);
                return [new Observation("onlinescorer", null, null, notReady, [])];
            }
        }
    }

    private RedisValue MinId(TimeSpan window) =>
        string.Create(CultureInfo.InvariantCulture, $"{(time.GetUtcNow() - window).ToUnixTimeMilliseconds()}-0");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert rule {Rule} could not be evaluated; retrying on the next evaluation")]
    private static partial void LogEvaluationFailed(ILogger logger, string rule, Exception exception);
}
