using Microsoft.Extensions.Options;
using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>
/// Keeps the data folder and Redis bounded: finished jobs expire <see cref="BatchJobOptions.RetentionDays"/> after they finished, and
/// folders of uploads that were cut off (no manifest, nothing written for <see cref="BatchJobOptions.AbandonedUploadMinutes"/>) are removed.
/// Run by the reconciler, one replica at a time.
/// </summary>
public sealed class JobRetention(JobStore store, JobFiles files, JobLifecycle lifecycle, IOptions<BatchJobOptions> options, TimeProvider clock,
    ILogger<JobRetention> logger)
{
    // Bounds one pass; the next pass continues where this one stopped.
    private const int MaxPerPass = 500;

    /// <summary>Removes the finished jobs whose retention has passed; returns how many.</summary>
    public async Task<int> ExpireFinishedJobsAsync()
    {
        var cutoff = clock.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var removed = 0;
        // A job cannot have finished before it was created: the jobs created before the cutoff are the only candidates.
        foreach (var (id, finishedAt) in await store.ListFinishedCreatedBeforeAsync(cutoff, MaxPerPass))
        {
            if (finishedAt is null || finishedAt < cutoff)
            {
                var (done, _) = await lifecycle.RemoveFinishedAsync(id, $"finished more than {options.Value.RetentionDays} days ago (BatchJobOptions:RetentionDays)");
                removed += done ? 1 : 0;
            }
        }
        return removed;
    }

    /// <summary>Removes the folder of <paramref name="id"/> when it holds an upload that was cut off; true when it did.</summary>
    public bool RemoveIfAbandonedUpload(string id)
    {
        if (files.Exists(id))
        {
            return false;
        }
        var dir = new DirectoryInfo(files.JobDirectory(id));
        if (!dir.Exists)
        {
            return false;
        }
        var lastWrite = dir.EnumerateFileSystemInfos("*", SearchOption.AllDirectories).Select(f => f.LastWriteTimeUtc).Append(dir.LastWriteTimeUtc).Max();
        if (clock.GetUtcNow().UtcDateTime - lastWrite < TimeSpan.FromMinutes(options.Value.AbandonedUploadMinutes))
        {
            return false;
        }
        files.DeleteJob(id);
        logger.LogInformation("Removed the folder of job {JobId}: an upload without a manifest, untouched for {Minutes} minutes", id, options.Value.AbandonedUploadMinutes);
        return true;
    }
}
