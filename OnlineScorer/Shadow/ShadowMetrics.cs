using System.Diagnostics.Metrics;

namespace MlPlatform.OnlineScorer.Shadow;

/// <summary>The shadow traffic's instruments, on the scorer's inference meter.</summary>
public sealed class ShadowMetrics
{
    /// <summary>The shadow queue was full when production answered.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>Production left no room for the copy within <see cref="ShadowOptions.MaxWaitMilliseconds"/>.</summary>
    public const string Busy = "busy";

    private readonly Counter<long> _copied;
    private readonly Counter<long> _dropped;

    public ShadowMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PlatformTelemetry.InferenceMeter);
        _copied = meter.CreateCounter<long>("mlplatform.shadow.copied", "{request}", "Copies of production requests run on a shadow version.");
        _dropped = meter.CreateCounter<long>("mlplatform.shadow.dropped", "{request}",
            "Copies of production requests never run: the shadow queue was full (queue_full) or production left no room in time (busy).");
    }

    /// <summary>Counts a copy that ran (whatever its outcome: that is in the payload log and the request metrics).</summary>
    public void Copied() => _copied.Add(1);

    /// <summary>Counts a copy dropped for <paramref name="reason"/> (<see cref="QueueFull"/>, <see cref="Busy"/>).</summary>
    public void Dropped(string reason) => _dropped.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
