using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// Whether the scorer serves: ready once its first reconciliation with the registry has finished, and it stays ready
/// (a promotion or an unloadable version never makes it unready) until shutdown begins.
/// </summary>
public sealed class ServerReadiness
{
    private volatile bool _ready;
    private volatile bool _stopping;

    public bool IsReady => _ready && !_stopping;

    public bool IsStopping => _stopping;

    public void MarkReady() => _ready = true;

    /// <summary>Shutdown began: load balancers should stop sending requests while in-flight ones finish.</summary>
    public void MarkStopping() => _stopping = true;
}

internal sealed class ServerReadinessHealthCheck(ServerReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(readiness.IsStopping
                ? "Shutting down."
                : "First reconciliation with the registry has not finished."));
}
