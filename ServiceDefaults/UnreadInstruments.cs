using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The framework instruments that are updated on every request (or every 4 KiB buffer) but read by nothing the platform has: no
/// test, alert rule, fleet statistic, console view or documented metric. Recording them cost the gateway and the scorer CPU on
/// every request (an aggregator update per instrument per reader, with an exemplar when the request is traced), so they are
/// dropped; an instrument no reader keeps is never enabled, and the framework skips it.
/// <see cref="TelemetryOptions.RecordUnreadInstruments"/> turns them back on to diagnose the server itself.
/// </summary>
/// <remarks>
/// Kept on purpose: <c>http.server.request.duration</c> (the dashboard's request charts), <c>http.server.active_requests</c> (read by
/// the scorer's shutdown tests), <c>http.client.request.duration</c>, the Kestrel connection instruments (updated per connection,
/// not per request), the failure counters (<c>aspnetcore.authentication.challenges</c>/<c>.forbids</c>,
/// <c>aspnetcore.rate_limiting.requests</c> with its rejection reasons, <c>aspnetcore.diagnostics.exceptions</c>), the runtime and
/// process meters and every <c>MlPlatform.*</c> meter.
/// </remarks>
public static class UnreadInstruments
{
    /// <summary>Kestrel's block pool: rents and returns are counted per 4 KiB block, several per request.</summary>
    public const string MemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

    /// <summary>Per-request instruments of the other framework meters that nothing reads.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        "aspnetcore.routing.match_attempts",
        "aspnetcore.authentication.authenticate.duration",
        "aspnetcore.authorization.attempts",
        "aspnetcore.rate_limiting.active_request_leases",
        "aspnetcore.rate_limiting.request_lease.duration",
        "http.client.active_requests",
        "http.client.open_connections",
    };

    /// <summary>Whether <paramref name="instrument"/> is one of the dropped ones.</summary>
    public static bool IsUnread(Instrument instrument) =>
        instrument.Meter.Name == MemoryPoolMeter || Names.Contains(instrument.Name);

    /// <summary>Drops the unread instruments from every reader of <paramref name="metrics"/> (Prometheus and OTLP alike).</summary>
    public static MeterProviderBuilder DropUnreadInstruments(this MeterProviderBuilder metrics) =>
        metrics.AddView(instrument => IsUnread(instrument) ? MetricStreamConfiguration.Drop : null);
}
