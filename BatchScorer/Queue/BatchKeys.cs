using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>Every Redis key the batch scorer uses, in one place; the ones another service reads come from <see cref="BatchStreamKeys"/>.</summary>
public static class BatchKeys
{
    public const string Prefix = BatchStreamKeys.Prefix;

    /// <summary>Prefix of the per-status sorted sets (<see cref="JobsByStatus"/>); the job store's Lua scripts append a status read in Redis.</summary>
    public const string JobsByStatusPrefix = Prefix + "jobs:";

    /// <summary>Sorted set of every job id, scored by submission time (unix ms).</summary>
    public static readonly RedisKey Jobs = Prefix + "jobs";

    /// <summary>The chunk stream read by the <see cref="ConsumerGroup"/>.</summary>
    public static readonly RedisKey Chunks = BatchStreamKeys.Chunks;

    /// <summary>Chunks delivered too often without completing.</summary>
    public static readonly RedisKey DeadLetters = BatchStreamKeys.DeadLetters;

    public const string ConsumerGroup = "batchscorer";

    /// <summary>Held by the replica that is reconciling, so replicas take turns.</summary>
    public static readonly RedisKey ReconcilerLock = Prefix + "reconciler";

    /// <summary>Pub/sub channel that wakes idle workers when chunks are enqueued.</summary>
    public static readonly RedisChannel Wake = RedisChannel.Literal(Prefix + "wake");

    /// <summary>Sorted set of the job ids in one status (same scores as <see cref="Jobs"/>).</summary>
    public static RedisKey JobsByStatus(string status) => JobsByStatusPrefix + status;

    /// <summary>
    /// Prefix of the per-owner job indexes (<see cref="JobsOfOwner"/>): prefix + key id + <see cref="OwnerJobsSuffix"/> for all of an
    /// owner's jobs, prefix + key id + <see cref="OwnerJobsByStatusInfix"/> + status for those in one status. The job store's Lua scripts
    /// put the owner read from the job hash between them.
    /// </summary>
    public const string OwnerPrefix = Prefix + "owner:";

    public const string OwnerJobsSuffix = ":jobs";

    public const string OwnerJobsByStatusInfix = OwnerJobsSuffix + ":";

    /// <summary>Sorted set of the jobs one API key submitted (all of them, or those in <paramref name="status"/>), scored like <see cref="Jobs"/>.</summary>
    public static RedisKey JobsOfOwner(string owner, string? status = null) =>
        status is null ? OwnerPrefix + owner + OwnerJobsSuffix : OwnerPrefix + owner + OwnerJobsByStatusInfix + status;

    /// <summary>
    /// Set (with a TTL) after the reconciler has walked the data folder. Missing means the walk is due: at start, once per TTL, and
    /// right after Redis lost its data (the marker went with it), when jobs must be restored from the folder.
    /// </summary>
    public static readonly RedisKey FolderScanned = Prefix + "folder-scanned";

    /// <summary>Hash of one job's state and counters.</summary>
    public static RedisKey Job(string id) => $"{Prefix}job:{id}";

    /// <summary>Set of the job's chunk indices whose results are published.</summary>
    public static RedisKey DoneChunks(string id) => $"{Prefix}job:{id}:done";

    /// <summary>Hash chunk index → deliveries so far.</summary>
    public static RedisKey Attempts(string id) => $"{Prefix}job:{id}:attempts";

    /// <summary>Hash chunk index → last error.</summary>
    public static RedisKey Errors(string id) => $"{Prefix}job:{id}:errors";

    /// <summary>Hash chunk index → id of the stream message that carries it.</summary>
    public static RedisKey Enqueued(string id) => $"{Prefix}job:{id}:enqueued";
}
