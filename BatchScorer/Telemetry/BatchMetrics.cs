using System.Diagnostics;
using System.Diagnostics.Metrics;
using MlPlatform.BatchScorer.Jobs;

namespace MlPlatform.BatchScorer.Telemetry;

/// <summary>The batch scorer's instruments on the <c>MlPlatform.Batch</c> meter, and its activity source.</summary>
public sealed class BatchMetrics
{
    public const string MeterName = PlatformTelemetry.BatchMeter;
    public static readonly ActivitySource ActivitySource = new(PlatformTelemetry.BatchMeter);

    private readonly Counter<long> _jobsSubmitted;
    private readonly Counter<long> _rowsScored;
    private readonly Histogram<double> _chunkDuration;
    private readonly Counter<long> _chunksReclaimed;
    private readonly Counter<long> _chunksDeadLettered;
    private readonly Counter<long> _chunksHandedBack;
    private readonly Counter<long> _chunksFailed;

    // Refreshed by the reconciler loop: observable instruments are read synchronously, Redis is not.
    private volatile QueueSnapshot _snapshot = new(new Dictionary<string, long>(), 0, 0, 0);

    public BatchMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _jobsSubmitted = meter.CreateCounter<long>("mlplatform.batch.jobs.submitted", "{job}", "Jobs accepted");
        _rowsScored = meter.CreateCounter<long>("mlplatform.batch.rows", "{row}", "Rows scored, by outcome (ok, failed)");
        _chunkDuration = meter.CreateHistogram<double>("mlplatform.batch.chunk.duration", "s", "Time to score one chunk and publish its result");
        _chunksReclaimed = meter.CreateCounter<long>("mlplatform.batch.chunks.reclaimed", "{chunk}", "Chunks taken over from a worker that stopped renewing its claim");
        _chunksDeadLettered = meter.CreateCounter<long>("mlplatform.batch.chunks.dead_lettered", "{chunk}", "Chunks moved to the dead-letter stream");
        _chunksHandedBack = meter.CreateCounter<long>("mlplatform.batch.chunks.handed_back", "{chunk}", "Chunks returned to the queue on shutdown");
        _chunksFailed = meter.CreateCounter<long>("mlplatform.batch.chunks.failed", "{chunk}", "Chunk deliveries that ended in an error");
        meter.CreateObservableGauge("mlplatform.batch.jobs", ObserveJobs, "{job}", "Jobs by status");
        meter.CreateObservableGauge("mlplatform.batch.queue.depth", () => _snapshot.Waiting, "{chunk}", "Chunks waiting for a worker");
        meter.CreateObservableGauge("mlplatform.batch.chunks.pending", () => _snapshot.Pending, "{chunk}", "Chunks delivered and not yet acknowledged");
        meter.CreateObservableGauge("mlplatform.batch.chunks.dead", () => _snapshot.DeadLettered, "{chunk}", "Entries in the dead-letter stream");
    }

    public void JobSubmitted(string format) => _jobsSubmitted.Add(1, new KeyValuePair<string, object?>("format", format));

    public void ChunkScored(string model, int rows, int failedRows, TimeSpan duration)
    {
        var modelTag = new KeyValuePair<string, object?>("model", model);
        _rowsScored.Add(rows - failedRows, modelTag, new KeyValuePair<string, object?>("outcome", "ok"));
        if (failedRows > 0)
        {
            _rowsScored.Add(failedRows, modelTag, new KeyValuePair<string, object?>("outcome", "failed"));
        }
        _chunkDuration.Record(duration.TotalSeconds, modelTag);
    }

    public void ChunkReclaimed() => _chunksReclaimed.Add(1);

    public void ChunkDeadLettered() => _chunksDeadLettered.Add(1);

    public void ChunkHandedBack() => _chunksHandedBack.Add(1);

    public void ChunkFailed() => _chunksFailed.Add(1);

    public void Update(QueueSnapshot snapshot) => _snapshot = snapshot;

    private IEnumerable<Measurement<long>> ObserveJobs()
    {
        var snapshot = _snapshot;
        foreach (var status in JobStatus.All)
        {
            yield return new Measurement<long>(snapshot.JobsByStatus.GetValueOrDefault(status), new KeyValuePair<string, object?>("status", status));
        }
    }
}

public sealed record QueueSnapshot(IReadOnlyDictionary<string, long> JobsByStatus, long Waiting, long Pending, long DeadLettered);
