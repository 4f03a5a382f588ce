using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Fleet;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>Drives running rollouts and guards from the fleet statistics, on the replica that holds the leader lock.</summary>
public sealed partial class RolloutController(RolloutStore rollouts, RolloutService service, LeaderLock leader, IOptions<RolloutOptions> options,
    TimeProvider time, ILogger<RolloutController> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ControllerIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!await leader.HoldAsync())
                {
                    continue;
                }
                await TickAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        List<(Rollout Rollout, long Revision)> running;
        try
        {
            running = await rollouts.ListRunningAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            LogTickFailed(logger, "(all)", ex);
            return;
        }
        foreach (var (rollout, revision) in running)
        {
            try
            {
                await service.AdvanceAsync(rollout, revision, cancellationToken);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or SqliteException or HttpRequestException)
            {
                // The next tick tries again; a rollout never advances on figures it could not read.
                LogTickFailed(logger, rollout.Id, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The rollout controller could not analyse {Id}; retrying on the next tick")]
    private static partial void LogTickFailed(ILogger logger, string id, Exception exception);
}
