using System.ComponentModel.DataAnnotations;

namespace MlPlatform.Gateway.Health;

/// <summary>
/// How the gateway tells live backend instances from dead ones (section <c>BackendHealth</c>), applied to every cluster that does not
/// configure its own <c>HealthCheck</c>. With no live instance left, a route answers 503 at once instead of waiting on a dead one.
/// </summary>
public sealed class BackendHealthOptions
{
    public const string SectionName = "BackendHealth";

    /// <summary>
    /// Health-check backends at all. Default true. Turned off in Kubernetes, where the gateway sees one Service address per backend:
    /// readiness probes take dead pods out of it, and the gateway's own checks would only mark the whole Service down for one bad pod.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The path probed on each instance: liveness, not readiness, so a Redis outage does not take inference out. Default <c>/alive</c>.</summary>
    [Required, RegularExpression("^/.*")]
    public string Path { get; set; } = "/alive";

    /// <summary>
    /// Time between probes of an instance. Default 1 s: a restarted instance is back in rotation with its first successful probe, so this
    /// is the longest a restart waits for the gateway (it was 2 s, a fifth of a registry restart); a probe of <c>/alive</c> costs next to nothing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A probe not answered within this fails. At most 1 s. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:01")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Failed probes in a row that take an instance out of rotation (one success brings it back). Default 3: with probes every second, a
    /// live instance too slow to answer on a loaded machine is taken out after 3 s of failed probes, no sooner than with the former 2 every 2 s
    /// minus one interval. A dead one is out at once anyway (it refuses connections: <see cref="ReactivationPeriod"/>).
    /// </summary>
    [Range(1, 100)]
    public int ConsecutiveFailures { get; set; } = 3;

    /// <summary>
    /// How long an instance stays out of rotation after it refused a connection (passive check, <see cref="ConnectFailureHealthPolicy"/>),
    /// before one request tries it again. Default 2 s: trying a dead instance costs one refused connection (answered at once, retried on another
    /// instance), while a longer period kept a restarted instance out of rotation for that long after it was back.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

internal static class BackendHealthExtensions
{
    public static void AddBackendHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BackendHealthOptions>().BindConfiguration(BackendHealthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, ConnectFailureHealthPolicy>();
    }
}
