using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>Whether the scorer has finished its first reconciliation with the registry; once set it stays set.</summary>
public sealed class ServerReadiness
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;
}

internal sealed class ServerReadinessHealthCheck(ServerReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("First reconciliation with the registry has not finished."));
}
