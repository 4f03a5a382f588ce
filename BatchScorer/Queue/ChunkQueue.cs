using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Queue;

/// <summary>A chunk message as read from the stream.</summary>
/// <param name="MessageId">Stream entry id.</param>
/// <param name="JobId">The job the chunk belongs to.</param>
/// <param name="Chunk">The chunk's index in its job.</param>
public sealed record ChunkMessage(RedisValue MessageId, string JobId, int Chunk);

/// <summary>
/// The chunk queue: one Redis Stream read by one consumer group. A message is acknowledged and deleted once its chunk is counted,
/// so the stream only ever holds chunks that are waiting or in hand, and "is this chunk still queued?" is one XRANGE.
/// </summary>
public sealed class ChunkQueue(IConnectionMultiplexer redis, ILogger<ChunkQueue> logger)
{
    // ARGV: job id, chunk. Adds the message and remembers its id, atomically.
    private const string EnqueueScript = """
        local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[1], 'chunk', ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[2], id)
        return id
        """;

    // ARGV: group, message id, job id, chunk. Gives a chunk back to the group as a fresh message, without counting the delivery.
    private const string HandBackScript = """
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[3], 'chunk', ARGV[4])
        redis.call('HSET', KEYS[2], ARGV[4], id)
        if tonumber(redis.call('HGET', KEYS[3], ARGV[4]) or '0') > 0 then redis.call('HINCRBY', KEYS[3], ARGV[4], -1) end
        return id
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Creates the consumer group (and the stream) unless it exists; safe to call on every start and after Redis lost its data.</summary>
    public async Task EnsureGroupAsync()
    {
        try
        {
            // From the beginning: entries present before the group (a restored AOF) are work too.
            await Db.StreamCreateConsumerGroupAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, "0-0", createStream: true);
            logger.LogInformation("Created consumer group {Group} on {Stream}", BatchKeys.ConsumerGroup, BatchKeys.Chunks.ToString());
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    /// <summary>Adds one message per chunk and wakes idle workers.</summary>
    public async Task EnqueueAsync(string jobId, IEnumerable<int> chunks)
    {
        var db = Db;
        var batch = db.CreateBatch();
        var adds = chunks.Select(c => batch.ScriptEvaluateAsync(EnqueueScript, [BatchKeys.Chunks, BatchKeys.Enqueued(jobId)], [jobId, c])).ToList();
        batch.Execute();
        await Task.WhenAll(adds);
        await redis.GetSubscriber().PublishAsync(BatchKeys.Wake, jobId);
    }

    /// <summary>Reads up to <paramref name="count"/> never-delivered messages for <paramref name="consumer"/> (XREADGROUP &gt;).</summary>
    public async Task<IReadOnlyList<ChunkMessage>> ReadNewAsync(string consumer, int count)
    {
        var entries = await Db.StreamReadGroupAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, consumer, StreamPosition.NewMessages, count);
        return Parse(entries);
    }

    /// <summary>Takes over messages another consumer has held longer than <paramref name="minIdle"/> without renewing (XAUTOCLAIM).</summary>
    public async Task<(IReadOnlyList<ChunkMessage> Claimed, RedisValue NextCursor)> ClaimIdleAsync(string consumer, TimeSpan minIdle, RedisValue cursor, int count)
    {
        var result = await Db.StreamAutoClaimAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, consumer, (long)minIdle.TotalMilliseconds, cursor, count);
        return (Parse(result.ClaimedEntries), result.NextStartId);
    }

    /// <summary>Resets the idle time of a message in hand, so it is not taken over while it is being scored (XCLAIM JUSTID, which does not count a delivery).</summary>
    /// <returns>False when the message is gone (another delivery finished it).</returns>
    public async Task<bool> RenewAsync(string consumer, RedisValue messageId)
    {
        var ids = await Db.StreamClaimIdsOnlyAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, consumer, 0, [messageId]);
        return ids.Length > 0;
    }

    /// <summary>Acknowledges and deletes a finished (or obsolete) message.</summary>
    public async Task CompleteAsync(RedisValue messageId)
    {
        var transaction = Db.CreateTransaction();
        _ = transaction.StreamAcknowledgeAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, messageId);
        _ = transaction.StreamDeleteAsync(BatchKeys.Chunks, [messageId]);
        await transaction.ExecuteAsync();
    }

    /// <summary>Returns a chunk in hand to the group at once (graceful shutdown), without counting the delivery against it.</summary>
    public async Task HandBackAsync(ChunkMessage message)
    {
        await Db.ScriptEvaluateAsync(HandBackScript, [BatchKeys.Chunks, BatchKeys.Enqueued(message.JobId), BatchKeys.Attempts(message.JobId)],
            [BatchKeys.ConsumerGroup, message.MessageId, message.JobId, message.Chunk]);
        await redis.GetSubscriber().PublishAsync(BatchKeys.Wake, message.JobId);
    }

    /// <summary>Records a chunk that will not be retried on the dead-letter stream.</summary>
    public async Task DeadLetterAsync(ChunkMessage message, long firstRow, long lastRow, long deliveries, string error)
    {
        await Db.StreamAddAsync(BatchKeys.DeadLetters,
        [
            new("job", message.JobId), new("chunk", message.Chunk), new("firstRow", firstRow), new("lastRow", lastRow),
            new("deliveries", deliveries), new("error", error), new("at", DateTimeOffset.UtcNow.ToString("O")),
        ]);
    }

    /// <summary>
    /// Forgets consumers (one per process that ever ran) that hold nothing and have been idle longer than <paramref name="idle"/>:
    /// every restarted replica is a new consumer, and the group would otherwise list the dead ones forever.
    /// </summary>
    public async Task<int> PruneConsumersAsync(TimeSpan idle)
    {
        var db = Db;
        var removed = 0;
        foreach (var consumer in await db.StreamConsumerInfoAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup))
        {
            if (consumer.PendingMessageCount == 0 && consumer.IdleTimeInMilliseconds > idle.TotalMilliseconds)
            {
                await db.StreamDeleteConsumerAsync(BatchKeys.Chunks, BatchKeys.ConsumerGroup, consumer.Name);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Chunk index → message id of the job's chunks as last enqueued.</summary>
    public async Task<Dictionary<int, RedisValue>> GetEnqueuedAsync(string jobId)
    {
        var entries = await Db.HashGetAllAsync(BatchKeys.Enqueued(jobId));
        return entries.ToDictionary(e => (int)e.Name, e => e.Value);
    }

    /// <summary>Whether the message is still in the stream (waiting or in hand).</summary>
    public async Task<bool> IsInStreamAsync(RedisValue messageId)
    {
        var entries = await Db.StreamRangeAsync(BatchKeys.Chunks, messageId, messageId, 1);
        return entries.Length > 0;
    }

    /// <summary>Messages waiting to be delivered, messages delivered and not yet acknowledged, and dead letters.</summary>
    public async Task<(long Waiting, long Pending, long DeadLettered)> GetDepthAsync()
    {
        var db = Db;
        long waiting = 0, pending = 0;
        if (await db.KeyExistsAsync(BatchKeys.Chunks))
        {
            var group = (await db.StreamGroupInfoAsync(BatchKeys.Chunks)).FirstOrDefault(g => g.Name == BatchKeys.ConsumerGroup);
            pending = group.PendingMessageCount;
            waiting = group.Lag ?? Math.Max(0, await db.StreamLengthAsync(BatchKeys.Chunks) - pending);
        }
        var dead = await db.StreamLengthAsync(BatchKeys.DeadLetters);
        return (waiting, pending, dead);
    }

    private IReadOnlyList<ChunkMessage> Parse(StreamEntry[] entries)
    {
        var messages = new List<ChunkMessage>(entries.Length);
        foreach (var entry in entries)
        {
            var job = entry["job"];
            var chunk = entry["chunk"];
            if (job.IsNull || !chunk.TryParse(out int index))
            {
                logger.LogWarning("Dropping malformed chunk message {MessageId}", entry.Id.ToString());
                _ = CompleteAsync(entry.Id);
                continue;
            }
            messages.Add(new ChunkMessage(entry.Id, job.ToString(), index));
        }
        return messages;
    }
}
