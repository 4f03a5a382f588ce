using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Rollouts;
using StackExchange.Redis;

namespace MlPlatform.ModelRegistry.Fleet;

/// <summary>
/// One registry replica at a time runs the controllers (rollouts, guard, alert rules): the one holding a Redis lock with expiry,
/// renewed each tick. A leader that dies stops renewing and another takes over once the lock expires.
/// </summary>
public sealed class LeaderLock(IConnectionMultiplexer redis, IOptions<RolloutOptions> options, ILogger<LeaderLock> logger)
{
    private readonly RedisValue _token = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>Takes or renews the lock; false when another replica holds it or Redis cannot be reached.</summary>
    public async Task<bool> HoldAsync()
    {
        var settings = options.Value;
        var ttl = TimeSpan.FromSeconds(settings.LeaderLockSeconds);
        try
        {
            var db = redis.GetDatabase();
            return await db.LockExtendAsync(settings.LeaderLockKey, _token, ttl) || await db.LockTakeAsync(settings.LeaderLockKey, _token, ttl);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Cannot reach Redis for the controller lock; controllers pause until it answers");
            return false;
        }
    }
}
