using System.Globalization;
using MlPlatform.BatchScorer.Queue;
using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Jobs;

/// <summary>
/// Job state in Redis: one hash per job with its counters, a sorted set of all jobs and one per status (both scored by submission time).
/// Every status change and every chunk completion is one Lua script, so counters and indexes never disagree and a chunk is counted once.
/// </summary>
public sealed class JobStore(IConnectionMultiplexer redis, TimeProvider clock)
{
    // The status sets' key is a prefix plus a status read inside the script, and an owner's sets are a prefix, the owner read from the
    // job hash, an infix and a status, so prefixes and infix come in as arguments (BatchKeys stays the only place keys are spelled).
    // Moves a job between status sets. ARGV: new status, allowed current statuses (space separated), now (ISO), error or '', job id,
    // status-set key prefix, owner key prefix, owner status-set infix.
    private const string TransitionScript = """
        local status = redis.call('HGET', KEYS[1], 'status')
        if not status then return false end
        local allowed = false
        for s in string.gmatch(ARGV[2], '%S+') do if s == status then allowed = true end end
        if not allowed then return status end
        local score = redis.call('HGET', KEYS[1], 'createdAtMs')
        redis.call('ZREM', ARGV[6] .. status, ARGV[5])
        redis.call('ZADD', ARGV[6] .. ARGV[1], score, ARGV[5])
        local owner = redis.call('HGET', KEYS[1], 'submittedBy')
        if owner and owner ~= '' then
          redis.call('ZREM', ARGV[7] .. owner .. ARGV[8] .. status, ARGV[5])
          redis.call('ZADD', ARGV[7] .. owner .. ARGV[8] .. ARGV[1], score, ARGV[5])
        end
        redis.call('HSET', KEYS[1], 'status', ARGV[1])
        if ARGV[1] == 'running' then
          redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[3])
        else
          redis.call('HSET', KEYS[1], 'finishedAt', ARGV[3])
          if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[4]) end
        end
        return 'ok'
        """;

    // Counts a published chunk once. ARGV: chunk, rows, failed rows, now (ISO), job id, status-set key prefix, owner key prefix, owner
    // status-set infix. Returns {added, status after}.
    private const string ChunkDoneScript = """
        local status = redis.call('HGET', KEYS[1], 'status')
        if not status then return {0, ''} end
        if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return {0, status} end
        redis.call('HINCRBY', KEYS[1], 'rowsDone', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'rowsFailed', ARGV[3])
        local done = redis.call('HINCRBY', KEYS[1], 'chunksDone', 1)
        local score = redis.call('HGET', KEYS[1], 'createdAtMs')
        local owner = redis.call('HGET', KEYS[1], 'submittedBy')
        local function move(to)
          redis.call('ZREM', ARGV[6] .. status, ARGV[5])
          redis.call('ZADD', ARGV[6] .. to, score, ARGV[5])
          if owner and owner ~= '' then
            redis.call('ZREM', ARGV[7] .. owner .. ARGV[8] .. status, ARGV[5])
            redis.call('ZADD', ARGV[7] .. owner .. ARGV[8] .. to, score, ARGV[5])
          end
          redis.call('HSET', KEYS[1], 'status', to)
          status = to
        end
        if status == 'queued' then
          move('running')
          redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[4])
        end
        if status == 'running' and done >= tonumber(redis.call('HGET', KEYS[1], 'chunksTotal')) then
          move('succeeded')
          redis.call('HSET', KEYS[1], 'finishedAt', ARGV[4])
        end
        return {1, status}
        """;

    // Creates a job unless it exists, with the chunks already done (a restore) in the same step, so a chunk completing
    // concurrently is counted either by the restore or by its worker, never by both.
    // KEYS: job hash, job index, done chunks, the status set of the initial status, the owner's job index, the owner's set of the
    // initial status (both unused without an owner). ARGV: id, createdAtMs, status, done chunks (space separated), owner ('' for none),
    // then field/value pairs.
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('HSET', KEYS[1], 'status', ARGV[3], 'createdAtMs', ARGV[2], 'submittedBy', ARGV[5])
        for chunk in string.gmatch(ARGV[4], '%d+') do redis.call('SADD', KEYS[3], chunk) end
        redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
        redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
        if ARGV[5] ~= '' then
          redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
          redis.call('ZADD', KEYS[6], ARGV[2], ARGV[1])
        end
        return 1
        """;

    // Removes a finished job's state and its entries in every index. KEYS: job hash, done chunks, attempts, errors, enqueued, job index.
    // ARGV: id, status-set key prefix, owner key prefix, owner status-set infix, owner job index suffix. Returns the status it had,
    // false for an unknown job, or 'unfinished' (nothing removed) when it is still queued or running.
    private const string DeleteScript = """
        local status = redis.call('HGET', KEYS[1], 'status')
        if not status then return false end
        if status == 'queued' or status == 'running' then return 'unfinished' end
        local owner = redis.call('HGET', KEYS[1], 'submittedBy')
        redis.call('ZREM', KEYS[6], ARGV[1])
        redis.call('ZREM', ARGV[2] .. status, ARGV[1])
        if owner and owner ~= '' then
          redis.call('ZREM', ARGV[3] .. owner .. ARGV[5], ARGV[1])
          redis.call('ZREM', ARGV[3] .. owner .. ARGV[4] .. status, ARGV[1])
        end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
        return status
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Creates the job's Redis state from its manifest; false when it already exists.</summary>
    public async Task<bool> CreateAsync(JobManifest manifest, JobRestoredState? restored = null)
    {
        var status = restored?.Status ?? JobStatus.Queued;
        var fields = new List<RedisValue>
        {
            manifest.Id, manifest.CreatedAt.ToUnixTimeMilliseconds(), status, string.Join(' ', restored?.ChunksDone ?? []), manifest.SubmittedBy ?? "",
            "model", manifest.Model, "version", manifest.Version, "sha256", manifest.Sha256, "alias", manifest.Alias ?? "",
            "format", manifest.Format, "rowsTotal", manifest.RowsTotal, "chunksTotal", manifest.Chunks.Count,
            "chunkSize", manifest.ChunkSize, "failFast", manifest.FailFast ? 1 : 0, "createdAt", Iso(manifest.CreatedAt),
            "rowsDone", restored?.RowsDone ?? 0, "rowsFailed", restored?.RowsFailed ?? 0, "chunksDone", restored?.ChunksDone.Count ?? 0,
        };
        if (restored?.Error is { } error)
        {
            fields.AddRange(["error", error]);
        }
        if (restored?.FinishedAt is { } finished)
        {
            fields.AddRange(["finishedAt", Iso(finished)]);
        }
        if (restored is { ChunksDone.Count: > 0 })
        {
            fields.AddRange(["startedAt", Iso(manifest.CreatedAt)]);
        }
        return (long)await Db.ScriptEvaluateAsync(CreateScript,
            [BatchKeys.Job(manifest.Id), BatchKeys.Jobs, BatchKeys.DoneChunks(manifest.Id), BatchKeys.JobsByStatus(status),
                BatchKeys.JobsOfOwner(manifest.SubmittedBy ?? ""), BatchKeys.JobsOfOwner(manifest.SubmittedBy ?? "", status)], [.. fields]) == 1;
    }

    public async Task<bool> ExistsAsync(string id) => await Db.KeyExistsAsync(BatchKeys.Job(id));

    public async Task<JobView?> GetAsync(string id)
    {
        var entries = await Db.HashGetAllAsync(BatchKeys.Job(id));
        return entries.Length == 0 ? null : ToView(id, entries);
    }

    /// <summary>The current status, or null for an unknown job.</summary>
    public async Task<string?> GetStatusAsync(string id)
    {
        var status = await Db.HashGetAsync(BatchKeys.Job(id), "status");
        return status.IsNull ? null : status.ToString();
    }

    /// <summary>A page of jobs, newest first: every job, or only those <paramref name="owner"/> submitted.</summary>
    public async Task<JobPage> ListAsync(int pageIndex, int pageSize, string? status, string? owner = null)
    {
        var index = owner is null
            ? status is null ? BatchKeys.Jobs : BatchKeys.JobsByStatus(status)
            : BatchKeys.JobsOfOwner(owner, status);
        var db = Db;
        var total = await db.SortedSetLengthAsync(index);
        var ids = await db.SortedSetRangeByRankAsync(index, (long)pageIndex * pageSize, (long)(pageIndex + 1) * pageSize - 1, Order.Descending);
        var batch = db.CreateBatch();
        var reads = ids.Select(id => (Id: id.ToString(), Task: batch.HashGetAllAsync(BatchKeys.Job(id.ToString())))).ToList();
        batch.Execute();
        var items = new List<JobView>(reads.Count);
        foreach (var (id, task) in reads)
        {
            var entries = await task;
            if (entries.Length > 0)
            {
                items.Add(ToView(id, entries));
            }
        }
        return new JobPage(pageIndex, pageSize, total, items);
    }

    /// <summary>Removes a finished job's Redis state.</summary>
    /// <returns>Whether it was removed, and its status (null for an unknown job).</returns>
    public async Task<(bool Deleted, string? Status)> DeleteFinishedAsync(string id)
    {
        var result = await Db.ScriptEvaluateAsync(DeleteScript,
            [BatchKeys.Job(id), BatchKeys.DoneChunks(id), BatchKeys.Attempts(id), BatchKeys.Errors(id), BatchKeys.Enqueued(id), BatchKeys.Jobs],
            [id, BatchKeys.JobsByStatusPrefix, BatchKeys.OwnerPrefix, BatchKeys.OwnerJobsByStatusInfix, BatchKeys.OwnerJobsSuffix]);
        if (result.IsNull)
        {
            return (false, null);
        }
        var status = result.ToString();
        return status == "unfinished" ? (false, status) : (true, status);
    }

    /// <summary>Finished jobs (succeeded, failed, cancelled) created before <paramref name="createdBefore"/>, with their finish time.</summary>
    public async Task<IReadOnlyList<(string Id, DateTimeOffset? FinishedAt)>> ListFinishedCreatedBeforeAsync(DateTimeOffset createdBefore, int max)
    {
        var db = Db;
        var found = new List<(string, DateTimeOffset?)>();
        foreach (var status in new[] { JobStatus.Succeeded, JobStatus.Failed, JobStatus.Cancelled })
        {
            var ids = await db.SortedSetRangeByScoreAsync(BatchKeys.JobsByStatus(status), double.NegativeInfinity,
                createdBefore.ToUnixTimeMilliseconds(), take: max);
            foreach (var id in ids)
            {
                var finished = await db.HashGetAsync(BatchKeys.Job(id.ToString()), "finishedAt");
                found.Add((id.ToString(), finished.IsNullOrEmpty ? null : DateTimeOffset.Parse(finished.ToString(), CultureInfo.InvariantCulture)));
            }
        }
        return found;
    }

    /// <summary>Ids of jobs still queued or running: the reconciler's work list.</summary>
    public async Task<IReadOnlyList<string>> ListUnfinishedAsync()
    {
        var db = Db;
        var queued = await db.SortedSetRangeByRankAsync(BatchKeys.JobsByStatus(JobStatus.Queued));
        var running = await db.SortedSetRangeByRankAsync(BatchKeys.JobsByStatus(JobStatus.Running));
        return queued.Concat(running).Select(v => v.ToString()).Distinct().ToList();
    }

    public async Task<IReadOnlyDictionary<string, long>> CountByStatusAsync()
    {
        var db = Db;
        var counts = new Dictionary<string, long>();
        foreach (var status in JobStatus.All)
        {
            counts[status] = await db.SortedSetLengthAsync(BatchKeys.JobsByStatus(status));
        }
        return counts;
    }

    /// <summary>Moves the job to <paramref name="to"/> when its status is one of <paramref name="from"/>.</summary>
    /// <returns>Whether it moved, and the status it had (null for an unknown job).</returns>
    public async Task<(bool Moved, string? Status)> TransitionAsync(string id, string to, string[] from, string? error = null)
    {
        var result = await Db.ScriptEvaluateAsync(TransitionScript, [BatchKeys.Job(id)],
            [to, string.Join(' ', from), Iso(clock.GetUtcNow()), error ?? "", id, BatchKeys.JobsByStatusPrefix, BatchKeys.OwnerPrefix, BatchKeys.OwnerJobsByStatusInfix]);
        if (result.IsNull)
        {
            return (false, null);
        }
        var text = result.ToString();
        return text == "ok" ? (true, to) : (false, text);
    }

    /// <summary>Counts a chunk whose result file is published; a second call for the same chunk changes nothing.</summary>
    /// <returns>Whether this call counted it, and the job's status afterwards.</returns>
    public async Task<(bool Counted, string Status)> MarkChunkDoneAsync(string id, int chunk, int rows, int failedRows)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(ChunkDoneScript, [BatchKeys.Job(id), BatchKeys.DoneChunks(id)],
            [chunk, rows, failedRows, Iso(clock.GetUtcNow()), id, BatchKeys.JobsByStatusPrefix, BatchKeys.OwnerPrefix, BatchKeys.OwnerJobsByStatusInfix]))!;
        return ((long)result[0] == 1, result[1].ToString());
    }

    public async Task<HashSet<int>> GetDoneChunksAsync(string id)
    {
        var members = await Db.SetMembersAsync(BatchKeys.DoneChunks(id));
        return members.Select(m => (int)m).ToHashSet();
    }

    public async Task<bool> IsChunkDoneAsync(string id, int chunk) => await Db.SetContainsAsync(BatchKeys.DoneChunks(id), chunk);

    /// <summary>Counts one more delivery of a chunk and returns the total.</summary>
    public async Task<long> CountDeliveryAsync(string id, int chunk) => await Db.HashIncrementAsync(BatchKeys.Attempts(id), chunk);

    public async Task RecordChunkErrorAsync(string id, int chunk, string error) => await Db.HashSetAsync(BatchKeys.Errors(id), chunk, error);

    public async Task<string?> GetChunkErrorAsync(string id, int chunk)
    {
        var value = await Db.HashGetAsync(BatchKeys.Errors(id), chunk);
        return value.IsNull ? null : value.ToString();
    }

    private static string Iso(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    private JobView ToView(string id, HashEntry[] entries)
    {
        var map = entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        string? Get(string key) => map.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        long Long(string key) => long.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        DateTimeOffset? Time(string key) => Get(key) is { } v ? DateTimeOffset.Parse(v, CultureInfo.InvariantCulture) : null;

        var status = Get("status") ?? JobStatus.Queued;
        var rowsTotal = Long("rowsTotal");
        var rowsDone = Long("rowsDone");
        var started = Time("startedAt");
        var finished = Time("finishedAt");
        double? rate = null;
        double? eta = null;
        if (started is { } s)
        {
            var elapsed = ((finished ?? clock.GetUtcNow()) - s).TotalSeconds;
            if (elapsed > 0 && rowsDone > 0)
            {
                rate = Math.Round(rowsDone / elapsed, 1);
                if (status == JobStatus.Running)
                {
                    eta = Math.Round((rowsTotal - rowsDone) / (rowsDone / elapsed), 1);
                }
            }
        }
        return new JobView
        {
            Id = id,
            Status = status,
            Model = Get("model") ?? "",
            Version = (int)Long("version"),
            Sha256 = Get("sha256") ?? "",
            Alias = Get("alias"),
            Format = Get("format") ?? InputFormat.Jsonl,
            RowsTotal = rowsTotal,
            RowsDone = rowsDone,
            RowsFailed = Long("rowsFailed"),
            ChunksTotal = (int)Long("chunksTotal"),
            ChunksDone = (int)Long("chunksDone"),
            RowsPerSecond = rate,
            EtaSeconds = eta,
            Error = Get("error"),
            FailFast = Long("failFast") == 1,
            SubmittedBy = Get("submittedBy"),
            CreatedAt = Time("createdAt") ?? DateTimeOffset.UnixEpoch,
            StartedAt = started,
            FinishedAt = finished,
            Links = JobLinksFor(id),
        };
    }

    public static JobLinks JobLinksFor(string id) => new($"/v1/batch/jobs/{id}", $"/v1/batch/jobs/{id}/results");
}

/// <summary>What the data folder tells about a job whose Redis state was lost.</summary>
public sealed record JobRestoredState(string Status, IReadOnlyCollection<int> ChunksDone, long RowsDone, long RowsFailed, string? Error, DateTimeOffset? FinishedAt);
