using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// A live check: a scorer that has models to serve but can serve none of them for <see cref="LivenessOptions.NoServableModelSeconds"/>
/// is stuck (a corrupt artifact cache, an exhausted native heap…) and is better restarted. No models at all is healthy.
/// </summary>
internal sealed class ServingCapabilityHealthCheck(ModelRepository repository, ServerReadiness readiness, IOptions<LivenessOptions> options,
    TimeProvider time) : IHealthCheck
{
    private long _unservableSince = long.MaxValue;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (wanted, serving) = repository.ProductionCoverage();
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (!readiness.IsReady || wanted == 0 || serving > 0)
        {
            Interlocked.Exchange(ref _unservableSince, long.MaxValue);
            return Task.FromResult(HealthCheckResult.Healthy());
        }
        var since = Interlocked.CompareExchange(ref _unservableSince, now, long.MaxValue);
        since = since == long.MaxValue ? now : since;
        return Task.FromResult(now - since >= options.Value.NoServableModelSeconds
            ? HealthCheckResult.Unhealthy($"None of the {wanted} models with a production version could be served for {now - since} s.")
            : HealthCheckResult.Degraded($"None of the {wanted} models with a production version can be served yet."));
    }
}
