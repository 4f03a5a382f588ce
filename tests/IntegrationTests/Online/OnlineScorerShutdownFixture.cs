using System.Net.Sockets;

namespace MlPlatform.IntegrationTests.Online;

/// <summary>A platform whose online scorer gets SIGTERM: one per test, since the scorer does not come back.</summary>
public abstract class OnlineScorerShutdownFixture(int drainSeconds, int flushSeconds) : PlatformFixture
{
    public int DrainSeconds { get; } = drainSeconds;

    /// <summary>The scorer's <c>Telemetry:ShutdownFlushSeconds</c>: what its unreachable OTLP collector may add to the exit.</summary>
    public int FlushSeconds { get; } = flushSeconds;

    /// <summary>The scorer's stop includes its final telemetry flush to the collector below.</summary>
    protected override bool ExportTelemetry => true;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"OnlineScorer:HostOptions:ShutdownTimeout={TimeSpan.FromSeconds(DrainSeconds):c}",
        // A collector that is not there, as when the dashboard or collector is down: the exporters retry it (Aspire's in-memory retry)
        // until the flush bound; without the bound that took 15 s after the drain (docs/online-scorer.md, Graceful shutdown).
        $"OnlineScorer:OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{ClosedPort()}",
        "OnlineScorer:OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory",
        $"OnlineScorer:Telemetry:ShutdownFlushSeconds={FlushSeconds}",
        // The tests hold request bodies half sent through the drain: the gateway's minimum data rate would cut them after its 5 s
        // grace (408) and let the scorer finish early, so the grace outlasts the longest drain here.
        "Gateway:DataRates:RequestGracePeriod=00:01:00",
        OneBatchReplica,
    ];

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Drain time long enough for every request the test holds open.</summary>
public sealed class OnlineScorerDrainFixture() : OnlineScorerShutdownFixture(drainSeconds: 30, flushSeconds: 2);

/// <summary>
/// A short drain time, to see it bound a request that never finishes. No time for the telemetry flush: the test releases the held body
/// only once the process is gone (the gateway's data-rate grace, raised for these platforms, outlasts it).
/// </summary>
public sealed class OnlineScorerDrainBoundFixture() : OnlineScorerShutdownFixture(drainSeconds: 3, flushSeconds: 0);

[CollectionDefinition(Name)]
public sealed class OnlineScorerDrainCollection : ICollectionFixture<OnlineScorerDrainFixture>
{
    public const string Name = "OnlineScorerDrain";
}

[CollectionDefinition(Name)]
public sealed class OnlineScorerDrainBoundCollection : ICollectionFixture<OnlineScorerDrainBoundFixture>
{
    public const string Name = "OnlineScorerDrainBound";
}
