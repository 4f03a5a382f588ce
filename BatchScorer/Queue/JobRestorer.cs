using MlPlatform.BatchScorer.Jobs;
using MlPlatform.BatchScorer.Storage;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>
/// Rebuilds a job's Redis state from the data folder: the manifest says what the job is, the published chunk files say what is done,
/// <c>final.json</c> says how it ended. Used when Redis lost a job (a crash inside its one-second fsync window, or a wiped server).
/// </summary>
public sealed class JobRestorer(JobFiles files, JobStore store, ILogger<JobRestorer> logger)
{
    /// <returns>True when this call recreated the job.</returns>
    public async Task<bool> RestoreAsync(string id, CancellationToken cancellationToken)
    {
        var manifest = await files.ReadManifestAsync(id, cancellationToken);
        var final = await files.ReadFinalStateAsync(id, cancellationToken);
        var done = new List<int>();
        long rowsDone = 0, rowsFailed = 0;
        foreach (var chunk in manifest.Chunks)
        {
            var path = files.ChunkResultPath(id, chunk.Index);
            if (File.Exists(path))
            {
                done.Add(chunk.Index);
                rowsDone += chunk.RowCount;
                rowsFailed += await CountFailedRowsAsync(path, cancellationToken);
            }
        }
        var status = final?.Status ?? (done.Count == manifest.Chunks.Count ? JobStatus.Succeeded : done.Count > 0 ? JobStatus.Running : JobStatus.Queued);
        var restored = new JobRestoredState(status, done, rowsDone, rowsFailed, final?.Error, final?.FinishedAt);
        var created = await store.CreateAsync(manifest, restored);
        if (created)
        {
            logger.LogWarning("Restored job {JobId} from the data folder as {Status} with {Done}/{Total} chunks done", id, status, done.Count, manifest.Chunks.Count);
        }
        return created;
    }

    /// <summary>Result lines that carry an error instead of outputs.</summary>
    public static async Task<int> CountFailedRowsAsync(string path, CancellationToken cancellationToken)
    {
        var failed = 0;
        using var reader = new StreamReader(path);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            // Lines are written by ResultLineWriter: {"row":N,"error":...} or {"row":N,"outputs":...}.
            var comma = line.IndexOf(',');
            if (comma > 0 && line.AsSpan(comma).StartsWith(",\"error\"", StringComparison.Ordinal))
            {
                failed++;
            }
        }
        return failed;
    }
}
