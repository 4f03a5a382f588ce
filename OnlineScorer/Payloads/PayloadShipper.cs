using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MlPlatform.OnlineScorer.Payloads;

/// <summary>
/// Drains the payload buffer to the Redis stream in pipelined batches, trimming it to an approximate length on every add. Redis being
/// slow or down costs records (dropped and counted, here or at the full buffer), never a request.
/// </summary>
public sealed partial class PayloadShipper(PayloadRecorder recorder, IConnectionMultiplexer redis, IOptions<PayloadLogOptions> options,
    PayloadMetrics metrics, ILogger<PayloadShipper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = recorder.Reader;
        var batch = new List<PayloadCapture>(options.Value.ShipBatchSize);
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < options.Value.ShipBatchSize && reader.TryRead(out var capture))
                {
                    batch.Add(capture);
                }
                await ShipAsync(batch);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // On the way down: one last send of what is buffered; whatever is left is lost and counted.
        recorder.Complete();
        while (reader.TryRead(out var capture))
        {
            batch.Add(capture);
        }
        await ShipAsync(batch);
    }

    private async Task ShipAsync(List<PayloadCapture> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var records = new byte[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                records[i] = PayloadJson.Write(batch[i]);
            }
            finally
            {
                batch[i].Dispose();
            }
        }
        var db = redis.GetDatabase();
        var adds = new Task[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            adds[i] = db.StreamAddAsync(PayloadStreamKeys.Stream, PayloadStreamKeys.RecordField, records[i],
                maxLength: options.Value.StreamMaxLength, useApproximateMaxLength: true);
        }
        try
        {
            await Task.WhenAll(adds);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogShipFailed(logger, ex);
        }
        var failed = adds.Count(a => !a.IsCompletedSuccessfully);
        if (failed > 0)
        {
            metrics.Dropped(failed, "redis");
        }
        metrics.Recorded(adds.Length - failed);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add payload records to Redis; they are dropped and counted, requests are not affected")]
    private static partial void LogShipFailed(ILogger logger, Exception exception);
}
