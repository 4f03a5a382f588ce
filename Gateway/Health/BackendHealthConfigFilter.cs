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
                // No live instance means no instance: the request is answered 503 rather than sent to a dead one (or to a draining
                // one over a kept-alive connection). A restarted instance is back with the next probe (Interval).
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
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
