using System.Diagnostics;
using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Scoring;
using MlPlatform.BatchScorer.Storage;
using MlPlatform.BatchScorer.Telemetry;
using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>
/// Takes chunks from the consumer group and scores them, <see cref="BatchWorkerOptions.MaxConcurrentChunks"/> at a time.
/// Each loop first takes over chunks whose holder stopped renewing its claim (XAUTOCLAIM), then reads new ones (XREADGROUP).
/// A chunk is published, counted (idempotently), then acknowledged: at least once, counted exactly once.
/// </summary>
public sealed class ChunkWorker(
    ChunkQueue queue, JobStore store, JobLifecycle lifecycle, JobFiles files, ChunkScorer scorer, JobRestorer restorer,
    IConnectionMultiplexer redis, IOptions<BatchWorkerOptions> options, BatchMetrics metrics, ILogger<ChunkWorker> logger) : BackgroundService
{
    private static readonly string[] Queued = [JobStatus.Queued];

    /// <summary>This process's consumer name in the group; a restarted process is a new consumer, and its predecessor's chunks are reclaimed.</summary>
    public string ConsumerName { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BatchWorkerOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WaitForGroupAsync(stoppingToken);
        await redis.GetSubscriber().SubscribeAsync(BatchKeys.Wake, (_, _) => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        logger.LogInformation("Batch worker {Consumer} started with {Concurrency} loops", ConsumerName, Options.MaxConcurrentChunks);
        await Task.WhenAll(Enumerable.Range(0, Options.MaxConcurrentChunks).Select(_ => RunLoopAsync(stoppingToken)));
    }

    private async Task WaitForGroupAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await queue.EnsureGroupAsync();
                return;
            }
            catch (RedisException ex)
            {
                logger.LogWarning(ex, "Redis is not answering; the worker retries");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task RunLoopAsync(CancellationToken stoppingToken)
    {
        RedisValue cursor = "0-0";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                ChunkMessage? message = null;
                var (claimed, next) = await queue.ClaimIdleAsync(ConsumerName, Options.ClaimIdleTime, cursor, 1);
                cursor = next.IsNull ? "0-0" : next;
                if (claimed.Count > 0)
                {
                    message = claimed[0];
                    metrics.ChunkReclaimed();
                    logger.LogWarning("Reclaimed chunk {Chunk} of job {JobId} after {Idle} without a claim renewal", message.Chunk, message.JobId, Options.ClaimIdleTime);
                }
                else
                {
                    var read = await queue.ReadNewAsync(ConsumerName, 1);
                    message = read.Count > 0 ? read[0] : null;
                }
                if (message is null)
                {
                    await Task.WhenAny(Volatile.Read(ref _wake).Task, Task.Delay(Options.PollInterval, stoppingToken));
                    continue;
                }
                await ProcessAsync(message, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // Redis came back without the group (no persistence, or a wiped server): recreate it, the reconciler re-enqueues.
                await WaitForGroupAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning(ex, "Redis failed under the worker; retrying");
                await Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Unexpected worker failure; retrying");
                await Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task ProcessAsync(ChunkMessage message, CancellationToken stoppingToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = message.JobId, ["Chunk"] = message.Chunk });
        using var activity = BatchMetrics.ActivitySource.StartActivity("batch.chunk");
        activity?.SetTag("batch.job.id", message.JobId);
        activity?.SetTag("batch.chunk", message.Chunk);

        var status = await store.GetStatusAsync(message.JobId);
        if (status is null && JobFiles.IsValidJobId(message.JobId) && files.Exists(message.JobId))
        {
            // Redis lost the job (restart within its fsync window) but the data folder has it.
            await restorer.RestoreAsync(message.JobId, stoppingToken);
            status = await store.GetStatusAsync(message.JobId);
        }
        if (status is null || JobStatus.IsTerminal(status) || await store.IsChunkDoneAsync(message.JobId, message.Chunk))
        {
            await queue.CompleteAsync(message.MessageId);
            return;
        }

        var manifest = await files.ReadManifestAsync(message.JobId, stoppingToken);
        if (message.Chunk < 0 || message.Chunk >= manifest.Chunks.Count)
        {
            logger.LogWarning("Dropping message {MessageId}: job {JobId} has no chunk {Chunk}", message.MessageId.ToString(), message.JobId, message.Chunk);
            await queue.CompleteAsync(message.MessageId);
            return;
        }
        var chunk = manifest.Chunks[message.Chunk];
        var deliveries = await store.CountDeliveryAsync(message.JobId, message.Chunk);
        if (deliveries > Options.MaxDeliveries)
        {
            var lastError = await store.GetChunkErrorAsync(message.JobId, message.Chunk)
                ?? "the workers holding it stopped before finishing it";
            await DeadLetterAsync(message, chunk, deliveries - 1, lastError);
            return;
        }
        await store.TransitionAsync(message.JobId, JobStatus.Running, Queued);

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewing = RenewClaimAsync(message, renewal.Token);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var outcome = await scorer.ScoreAsync(manifest, chunk, stoppingToken);
            if (manifest.FailFast && outcome.FailedRows > 0)
            {
                // Before the chunk is counted: counting the last chunk would otherwise complete the job.
                await lifecycle.FailAsync(message.JobId, $"Row {outcome.FirstFailedRow} cannot be scored (failFast): {outcome.FirstError}");
            }
            var (counted, statusAfter) = await store.MarkChunkDoneAsync(message.JobId, chunk.Index, outcome.Rows, outcome.FailedRows);
            if (counted)
            {
                metrics.ChunkScored(manifest.Model, outcome.Rows, outcome.FailedRows, Stopwatch.GetElapsedTime(started));
                if (statusAfter == JobStatus.Succeeded)
                {
                    await lifecycle.SucceededAsync(message.JobId);
                }
            }
            await queue.CompleteAsync(message.MessageId);
            logger.LogDebug("Scored chunk {Chunk} of job {JobId}: rows {First}-{Last}, {Failed} failed", chunk.Index, message.JobId, chunk.FirstRow, chunk.LastRow, outcome.FailedRows);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Graceful shutdown: give the chunk back now rather than making another replica wait out the idle time.
            await queue.HandBackAsync(message);
            metrics.ChunkHandedBack();
            logger.LogInformation("Handed chunk {Chunk} of job {JobId} back to the queue on shutdown", chunk.Index, message.JobId);
            throw;
        }
        catch (Exception ex) when (ex is not RedisException)
        {
            metrics.ChunkFailed();
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            var error = $"{ex.GetType().Name}: {ex.Message}";
            await store.RecordChunkErrorAsync(message.JobId, chunk.Index, error);
            if (deliveries >= Options.MaxDeliveries)
            {
                await DeadLetterAsync(message, chunk, deliveries, error);
            }
            else
            {
                // Left pending: another worker (or this one) reclaims it after the idle time, which spaces the retries out.
                logger.LogWarning(ex, "Chunk {Chunk} of job {JobId} failed on delivery {Delivery} of {Max}; it will be retried",
                    chunk.Index, message.JobId, deliveries, Options.MaxDeliveries);
            }
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
        }
    }

    private async Task DeadLetterAsync(ChunkMessage message, Jobs.ChunkRange chunk, long deliveries, string error)
    {
        await queue.DeadLetterAsync(message, chunk.FirstRow, chunk.LastRow, deliveries, error);
        metrics.ChunkDeadLettered();
        await lifecycle.FailAsync(message.JobId,
            $"Chunk {chunk.Index} (rows {chunk.FirstRow}-{chunk.LastRow}) failed {deliveries} times and was dead-lettered; last error: {error}");
        await queue.CompleteAsync(message.MessageId);
    }

    private async Task RenewClaimAsync(ChunkMessage message, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Options.ClaimRenewInterval, cancellationToken);
                try
                {
                    await queue.RenewAsync(ConsumerName, message.MessageId);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    logger.LogWarning(ex, "Could not renew the claim on chunk {Chunk} of job {JobId}", message.Chunk, message.JobId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
