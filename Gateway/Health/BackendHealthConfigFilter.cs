using System.Globalization;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace MlPlatform.Gateway.Health;

/// <summary>Gives every cluster without a <c>HealthCheck</c> of its own the active and passive checks of <see cref="BackendHealthOptions"/>.</summary>
internal sealed class BackendHealthConfigFilter(IOptions<BackendHealthOptions> options) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var settings = options.Value;
        if (!settings.Enabled || cluster.HealthCheck is not null)
        {
            return ValueTask.FromResult(cluster);
        }
        var metadata = new Dictionary<string, string>(cluster.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            [ConsecutiveFailuresHealthPolicyOptions.ThresholdMetadataName] = settings.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture),
        };
        return ValueTask.FromResult(cluster with
        {
            HealthCheck = new HealthCheckConfig
            {
                // Healthy instances while there are any. When none is, every instance is tried rather than none: a service the
                // supervisor (or an operator) has just started is served at once instead of after the next probe (up to Interval of
                // 503s), and a dead one still refuses the connection at once, which the error pipeline answers 503 + Retry-After
                // naming the backend. Every instance is unproxied on the one-machine run, so "dead" is a refused connection, not a wait.
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = settings.Interval,
                    Timeout = settings.Timeout,
                    Policy = "ConsecutiveFailures",
                    Path = settings.Path,
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = ConnectFailureHealthPolicy.PolicyName,
                    ReactivationPeriod = settings.ReactivationPeriod,
                },
            },
            Metadata = metadata,
        });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route);
}
