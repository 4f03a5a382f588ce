using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.BatchScorer.Telemetry;
using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>
/// Repairs what Redis may have lost, one replica at a time (a Redis lock), every <see cref="BatchWorkerOptions.ReconcileInterval"/> and on reconnect:
/// counts chunks whose result file is published but not counted, re-enqueues chunks of unfinished jobs that are neither done nor in
/// the stream (waiting or pending), and expires finished jobs past their retention. Only unfinished jobs are looked at each pass; the
/// data folder is walked (recreating jobs Redis lost, removing cut-off uploads) only when Redis lost its data, and once per
/// <see cref="FolderScanInterval"/>.
/// </summary>
public sealed class JobReconciler(
    JobFiles files, JobStore store, ChunkQueue queue, JobRestorer restorer, JobLifecycle lifecycle, JobRetention retention, IConnectionMultiplexer redis,
    IOptions<BatchWorkerOptions> options, BatchMetrics metrics, TimeProvider clock, ILogger<JobReconciler> logger) : BackgroundService
{
    /// <summary>How often the data folder is walked when Redis lost nothing.</summary>
    public static readonly TimeSpan FolderScanInterval = TimeSpan.FromHours(1);

    // Submissions create the Redis state and then enqueue; a job younger than this may be between the two.
    private static readonly TimeSpan SubmissionGrace = TimeSpan.FromSeconds(5);

    // A live worker polls every PollInterval; an hour without a read is a process that is gone.
    private static readonly TimeSpan ConsumerRetention = TimeSpan.FromHours(1);

    private readonly string _owner = Guid.NewGuid().ToString("N");
    private TaskCompletionSource _trigger = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += (_, _) => Interlocked.Exchange(ref _trigger, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var interval = options.Value.ReconcileInterval;
                if (await redis.GetDatabase().LockTakeAsync(BatchKeys.ReconcilerLock, _owner, interval * 3))
                {
                    try
                    {
                        await ReconcileAsync(stoppingToken);
                    }
                    finally
                    {
                        await redis.GetDatabase().LockReleaseAsync(BatchKeys.ReconcilerLock, _owner);
                    }
                }
                await RefreshMetricsAsync();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Reconciliation failed; it runs again in {Interval}", options.Value.ReconcileInterval);
            }
            try
            {
                await Task.WhenAny(Volatile.Read(ref _trigger).Task, Task.Delay(options.Value.ReconcileInterval, stoppingToken));
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>One pass over the data folder and the unfinished jobs.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await queue.EnsureGroupAsync();
        await queue.PruneConsumersAsync(ConsumerRetention);
        if (!await redis.GetDatabase().KeyExistsAsync(BatchKeys.FolderScanned))
        {
            await ScanFolderAsync(cancellationToken);
            await redis.GetDatabase().StringSetAsync(BatchKeys.FolderScanned, clock.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture), FolderScanInterval);
        }
        await retention.ExpireFinishedJobsAsync();
        foreach (var id in await store.ListUnfinishedAsync())
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await ReconcileJobAsync(id, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not RedisException)
            {
                logger.LogWarning(ex, "Could not reconcile job {JobId}", id);
            }
        }
    }

    /// <summary>Recreates the jobs the data folder has and Redis does not, and removes folders of uploads that were cut off.</summary>
    private async Task ScanFolderAsync(CancellationToken cancellationToken)
    {
        foreach (var id in files.EnumerateJobIds().ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (files.Exists(id))
            {
                if (!await store.ExistsAsync(id))
                {
                    await restorer.RestoreAsync(id, cancellationToken);
                }
            }
            else
            {
                retention.RemoveIfAbandonedUpload(id);
            }
        }
    }

    private async Task ReconcileJobAsync(string id, CancellationToken cancellationToken)
    {
        if (!files.Exists(id))
        {
            await lifecycle.FailAsync(id, "The job's input and manifest are missing from the data folder.");
            return;
        }
        var manifest = await files.ReadManifestAsync(id, cancellationToken);
        if (clock.GetUtcNow() - manifest.CreatedAt < SubmissionGrace)
        {
            return;
        }
        var done = await store.GetDoneChunksAsync(id);
        if (done.Count >= manifest.Chunks.Count)
        {
            // Every chunk is counted but the status change was lost (Redis restarted between the two).
            if ((await store.TransitionAsync(id, JobStatus.Succeeded, [JobStatus.Queued, JobStatus.Running])).Moved)
            {
                await lifecycle.SucceededAsync(id);
            }
            return;
        }
        var enqueued = await queue.GetEnqueuedAsync(id);
        var missing = new List<int>();
        foreach (var chunk in manifest.Chunks)
        {
            if (done.Contains(chunk.Index))
            {
                continue;
            }
            var path = files.ChunkResultPath(id, chunk.Index);
            if (File.Exists(path))
            {
                var failed = await JobRestorer.CountFailedRowsAsync(path, cancellationToken);
                var (counted, status) = await store.MarkChunkDoneAsync(id, chunk.Index, chunk.RowCount, failed);
                if (counted && status == JobStatus.Succeeded)
                {
                    await lifecycle.SucceededAsync(id);
                }
                continue;
            }
            if (enqueued.TryGetValue(chunk.Index, out var messageId) && await queue.IsInStreamAsync(messageId))
            {
                continue;
            }
            missing.Add(chunk.Index);
        }
        if (missing.Count > 0)
        {
            logger.LogWarning("Re-enqueuing {Count} chunks of job {JobId} that were neither done nor queued", missing.Count, id);
            await queue.EnqueueAsync(id, missing);
        }
    }

    private async Task RefreshMetricsAsync()
    {
        var counts = await store.CountByStatusAsync();
        var (waiting, pending, dead) = await queue.GetDepthAsync();
        metrics.Update(new QueueSnapshot(counts, waiting, pending, dead));
    }
}
