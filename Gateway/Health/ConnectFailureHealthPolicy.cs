using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Health;

/// <summary>
/// The gateway's passive health check: an instance that refused a connection (its process is dead, or not listening yet) leaves the
/// rotation for <see cref="BackendHealthOptions.ReactivationPeriod"/>, then one request tries it again.
/// <para>
/// YARP's own <c>TransportFailureRate</c> policy did not fit. It keeps an instance out for at least its 60 s detection window, whatever
/// the configured reactivation period, so a restarted scorer stayed out of rotation a minute after it was back. And it counts every
/// transport failure, including requests the client cancelled or whose body the client cut off: a hostile caller could take a healthy
/// instance out by cancelling its own requests. A refused connection depends on the instance alone.
/// </para>
/// </summary>
internal sealed class ConnectFailureHealthPolicy(IDestinationHealthUpdater health, IOptions<BackendHealthOptions> options) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConnectFailure";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is { Error: ForwarderError.Request } && ForwardFailures.IsConnectionRefused(error.Exception))
        {
            health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, options.Value.ReactivationPeriod);
        }
        else if (error is null && destination.Health.Passive == DestinationHealth.Unknown)
        {
            // Answered: known good until a refusal says otherwise (Unknown also counts as available; this only makes the state readable).
            health.SetPassive(cluster, destination, DestinationHealth.Healthy, options.Value.ReactivationPeriod);
        }
    }
}
