using System.ComponentModel.DataAnnotations;

namespace Microsoft.Extensions.Hosting;

/// <summary>How the OpenTelemetry exporters behave when a service stops, and which instruments are recorded; the <c>Telemetry</c> section.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>The longest accepted <see cref="ShutdownFlushSeconds"/>: it is added to every service's stop time and grace period.</summary>
    public const int MaxShutdownFlushSeconds = 30;

    /// <summary>
    /// How long, after the service has drained, the exporters may take to send their last traces, metrics and logs before the process exits.
    /// Default 3 s (a reachable collector takes milliseconds); 0 exits at once and drops what is unsent; at most 30.
    /// </summary>
    [Range(0, MaxShutdownFlushSeconds)]
    public int ShutdownFlushSeconds { get; set; } = 3;

    /// <summary>
    /// Records the framework's per-request instruments that nothing in the platform reads (<see cref="UnreadInstruments"/>: Kestrel's
    /// memory pool, routing match attempts, authentication and authorization counts, rate-limiter leases, HttpClient's open
    /// connections and active requests). Default false: they cost CPU on every request; turn on to diagnose the server itself.
    /// Read once at start.
    /// </summary>
    public bool RecordUnreadInstruments { get; set; }
}
