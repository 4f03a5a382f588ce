using MlPlatform.Contracts;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Fleet;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>
/// On the replica holding the leader lock, moves payload records from the scorers' Redis stream into the JSONL files: reads with the
/// registry's consumer group (its own unacknowledged entries first, so a new leader finishes what a dead one read), appends and fsyncs,
/// then acknowledges and deletes the entries. A crash between fsync and acknowledgement repeats records (at least once), never loses them.
/// </summary>
public sealed partial class PayloadDrainer(IConnectionMultiplexer redis, PayloadFiles files, FeedbackStore feedback, LeaderLock leader, IOptions<QualityOptions> options,
    TimeProvider time, ILogger<PayloadDrainer> logger) : BackgroundService
{
    // Every leader reads as the same consumer, so the entries a dead leader read but never acknowledged are the next one's pending ones.
    private const string Consumer = "leader";
    private static readonly TimeSpan RetentionInterval = TimeSpan.FromMinutes(10);

    private DateTimeOffset _nextRetention;

    /// <summary>The fields of a record the drainer needs to file it.</summary>
    private sealed record RecordHeader(string? Id, string? Model, int Version, DateTimeOffset At);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.DrainIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!await leader.HoldAsync())
                {
                    continue;
                }
                try
                {
                    await DrainAsync(stoppingToken);
                    await ApplyRetentionAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or IOException or UnauthorizedAccessException
            or Microsoft.Data.Sqlite.SqliteException)
                {
                    LogDrainFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Files everything the stream holds now (pending entries first).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var position = StreamPosition.Beginning;
        while (!cancellationToken.IsCancellationRequested)
        {
            StreamEntry[] entries;
            try
            {
                entries = await db.StreamReadGroupAsync(PayloadStreamKeys.Stream, PayloadStreamKeys.ConsumerGroup, Consumer, position,
                    options.Value.DrainBatchSize);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // First start, or Redis lost its data: the group reads from the start of what the stream holds.
                await CreateGroupAsync(db);
                continue;
            }
            if (entries.Length == 0)
            {
                if (position == StreamPosition.NewMessages)
                {
                    return;
                }
                position = StreamPosition.NewMessages;
                continue;
            }
            await FileAsync(entries, cancellationToken);
            var ids = entries.Select(e => e.Id).ToArray();
            await db.StreamAcknowledgeAsync(PayloadStreamKeys.Stream, PayloadStreamKeys.ConsumerGroup, ids);
            await db.StreamDeleteAsync(PayloadStreamKeys.Stream, ids);
        }
    }

    private static async Task CreateGroupAsync(IDatabase db)
    {
        try
        {
            await db.StreamCreateConsumerGroupAsync(PayloadStreamKeys.Stream, PayloadStreamKeys.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
        }
    }

    private async Task FileAsync(StreamEntry[] entries, CancellationToken cancellationToken)
    {
        var groups = new Dictionary<(string Model, int Version, DateTimeOffset Hour), List<ReadOnlyMemory<byte>>>();
        var ids = new List<(string Model, string Id, DateTimeOffset At)>(entries.Length);
        foreach (var entry in entries)
        {
            var value = entry[PayloadStreamKeys.RecordField];
            if (value.IsNull)
            {
                continue;
            }
            byte[] json = value!;
            RecordHeader? header = null;
            try
            {
                header = JsonSerializer.Deserialize<RecordHeader>(json, PayloadJson.Options);
            }
            catch (JsonException)
            {
            }
            if (header is not { Model: { } model, Id: { Length: > 0 } id } || !NameRules.IsValidName(model) || header.Version < 1)
            {
                LogBadRecord(logger, entry.Id.ToString());
                continue;
            }
            var at = header.At.ToUniversalTime();
            ids.Add((model, id, at));
            var key = (model, header.Version, new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero));
            if (!groups.TryGetValue(key, out var lines))
            {
                groups[key] = lines = [];
            }
            var line = new byte[json.Length + 1];
            json.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            lines.Add(line);
        }
        foreach (var ((model, version, hour), lines) in groups)
        {
            await files.AppendAsync(model, version, hour, lines, cancellationToken);
        }
        await feedback.IndexLoggedAsync(ids, cancellationToken);
    }

    private async Task ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < _nextRetention)
        {
            return;
        }
        _nextRetention = now + RetentionInterval;
        var deleted = files.DeleteExpired();
        await feedback.ForgetLoggedBeforeAsync(now.AddDays(-options.Value.PayloadRetentionDays), cancellationToken);
        if (deleted > 0)
        {
            LogExpired(logger, deleted);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not move payload records from Redis to their files; retrying on the next tick")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payload stream entry {Id} is not a payload record; skipped")]
    private static partial void LogBadRecord(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} payload log hour files past their retention")]
    private static partial void LogExpired(ILogger logger, int count);
}
