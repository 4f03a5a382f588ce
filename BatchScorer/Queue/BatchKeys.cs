using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>Every Redis key the batch scorer uses, in one place.</summary>
public static class BatchKeys
{
    public const string Prefix = "mlplatform:batch:";

    /// <summary>Sorted set of every job id, scored by submission time (unix ms).</summary>
    public static readonly RedisKey Jobs = "mlplatform:batch:jobs";

    /// <summary>The chunk stream read by the <see cref="ConsumerGroup"/>.</summary>
    public static readonly RedisKey Chunks = "mlplatform:batch:chunks";

    /// <summary>Chunks delivered too often without completing.</summary>
    public static readonly RedisKey DeadLetters = "mlplatform:batch:chunks:dead";

    public const string ConsumerGroup = "batchscorer";

    /// <summary>Held by the replica that is reconciling, so replicas take turns.</summary>
    public static readonly RedisKey ReconcilerLock = "mlplatform:batch:reconciler";

    /// <summary>Pub/sub channel that wakes idle workers when chunks are enqueued.</summary>
    public static readonly RedisChannel Wake = RedisChannel.Literal("mlplatform:batch:wake");

    /// <summary>Sorted set of the job ids in one status (same scores as <see cref="Jobs"/>).</summary>
    public static RedisKey JobsByStatus(string status) => $"mlplatform:batch:jobs:{status}";

    /// <summary>Sorted set of the jobs one API key submitted (all of them, or those in <paramref name="status"/>), scored like <see cref="Jobs"/>.</summary>
    public static RedisKey JobsOfOwner(string owner, string? status = null) =>
        status is null ? $"mlplatform:batch:owner:{owner}:jobs" : $"mlplatform:batch:owner:{owner}:jobs:{status}";

    /// <summary>
    /// Set (with a TTL) after the reconciler has walked the data folder. Missing means the walk is due: at start, once per TTL, and
    /// right after Redis lost its data (the marker went with it), when jobs must be restored from the folder.
    /// </summary>
    public static readonly RedisKey FolderScanned = "mlplatform:batch:folder-scanned";

    /// <summary>Hash of one job's state and counters.</summary>
    public static RedisKey Job(string id) => $"mlplatform:batch:job:{id}";

    /// <summary>Set of the job's chunk indices whose results are published.</summary>
    public static RedisKey DoneChunks(string id) => $"mlplatform:batch:job:{id}:done";

    /// <summary>Hash chunk index → deliveries so far.</summary>
    public static RedisKey Attempts(string id) => $"mlplatform:batch:job:{id}:attempts";

    /// <summary>Hash chunk index → last error.</summary>
    public static RedisKey Errors(string id) => $"mlplatform:batch:job:{id}:errors";

    /// <summary>Hash chunk index → id of the stream message that carries it.</summary>
    public static RedisKey Enqueued(string id) => $"mlplatform:batch:job:{id}:enqueued";
}
