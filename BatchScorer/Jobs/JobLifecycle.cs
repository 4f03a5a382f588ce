using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>Terminal transitions: the status moves in Redis first (one script), then <c>final.json</c> records it in the data folder.</summary>
public sealed class JobLifecycle(JobStore store, JobFiles files, TimeProvider clock, ILogger<JobLifecycle> logger)
{
    private static readonly string[] Unfinished = [JobStatus.Queued, JobStatus.Running];

    /// <summary>Cancels a queued or running job.</summary>
    /// <returns>Whether it was cancelled by this call, and its status before (null for an unknown job).</returns>
    public async Task<(bool Cancelled, string? Status)> CancelAsync(string id)
    {
        var (moved, status) = await store.TransitionAsync(id, JobStatus.Cancelled, Unfinished);
        if (moved)
        {
            await RecordFinalAsync(id, JobStatus.Cancelled, null);
            logger.LogInformation("Job {JobId} cancelled", id);
        }
        return (moved, status);
    }

    /// <summary>Fails a queued or running job with a reason the client reads in the job's <c>error</c>.</summary>
    public async Task<bool> FailAsync(string id, string reason)
    {
        var (moved, _) = await store.TransitionAsync(id, JobStatus.Failed, Unfinished, reason);
        if (moved)
        {
            await RecordFinalAsync(id, JobStatus.Failed, reason);
            logger.LogWarning("Job {JobId} failed: {Reason}", id, reason);
        }
        return moved;
    }

    /// <summary>Removes a finished job: its files first (the durable record), then its Redis state.</summary>
    /// <returns>Whether it was removed, and its status (null for an unknown job; queued or running ones are left alone).</returns>
    public async Task<(bool Removed, string? Status)> RemoveFinishedAsync(string id, string why)
    {
        var status = await store.GetStatusAsync(id);
        if (status is null || !JobStatus.IsTerminal(status))
        {
            return (false, status);
        }
        files.DeleteJob(id);
        var (removed, _) = await store.DeleteFinishedAsync(id);
        if (removed)
        {
            logger.LogInformation("Job {JobId} ({Status}) removed: {Why}", id, status, why);
        }
        return (removed, status);
    }

    /// <summary>Records a success already made in Redis (by the chunk-done script).</summary>
    public Task SucceededAsync(string id)
    {
        logger.LogInformation("Job {JobId} succeeded", id);
        return RecordFinalAsync(id, JobStatus.Succeeded, null);
    }

    private async Task RecordFinalAsync(string id, string status, string? error)
    {
        if (files.Exists(id))
        {
            await files.WriteFinalStateAsync(id, new Storage.JobFinalState(status, error, clock.GetUtcNow()), CancellationToken.None);
        }
    }
}
