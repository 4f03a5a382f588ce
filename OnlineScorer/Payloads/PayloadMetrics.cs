using System.Diagnostics.Metrics;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>The payload log's instruments, on the scorer's inference meter.</summary>
public sealed class PayloadMetrics
{
    private readonly Counter<long> _recorded;
    private readonly Counter<long> _dropped;

    public PayloadMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PlatformTelemetry.InferenceMeter);
        _recorded = meter.CreateCounter<long>("mlplatform.payload.recorded", "{record}", "Payload records added to the Redis stream.");
        _dropped = meter.CreateCounter<long>("mlplatform.payload.dropped", "{record}",
            "Payload records lost: the in-process buffer was full, Redis could not take them, or the scorer stopped before shipping them.");
    }

    public void Recorded(long count) => _recorded.Add(count);

    /// <summary>Counts records lost for <paramref name="reason"/> (<c>buffer_full</c>, <c>redis</c>, <c>shutdown</c>, <c>encode</c>).</summary>
    public void Dropped(long count, string reason) => _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
}
