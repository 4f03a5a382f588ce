using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using MlPlatform.BatchScorer.Telemetry;

namespace MlPlatform.UnitTests.Batch;

public sealed class BatchMetricsTests
{
    [Fact]
    public void InstrumentsReportOnTheBatchMeterWithTheirTags()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new BatchMetrics(services.GetRequiredService<IMeterFactory>());
        var measurements = new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "MlPlatform.Batch")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        metrics.ChunkScored("iris", rows: 100, failedRows: 3, TimeSpan.FromMilliseconds(20));
        metrics.ChunkReclaimed();
        metrics.ChunkDeadLettered();
        metrics.Update(new QueueSnapshot(new Dictionary<string, long> { ["running"] = 2, ["succeeded"] = 5 }, Waiting: 7, Pending: 3, DeadLettered: 1));
        listener.RecordObservableInstruments();

        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.rows" && m.Value == 97 && (string?)m.Tags["outcome"] == "ok" && (string?)m.Tags["model"] == "iris");
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.rows" && m.Value == 3 && (string?)m.Tags["outcome"] == "failed");
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.chunks.reclaimed" && m.Value == 1);
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.chunks.dead_lettered" && m.Value == 1);
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.jobs" && m.Value == 2 && (string?)m.Tags["status"] == "running");
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.jobs" && m.Value == 0 && (string?)m.Tags["status"] == "failed");
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.queue.depth" && m.Value == 7);
        Assert.Contains(measurements, m => m.Instrument == "mlplatform.batch.chunks.pending" && m.Value == 3);
    }
}
