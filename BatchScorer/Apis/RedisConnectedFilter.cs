using StackExchange.Redis;

namespace MlPlatform.BatchScorer.Apis;

/// <summary>
/// Fails a job route fast while the connection to Redis is down, instead of letting its first command wait in the client's backlog for
/// the command timeout (5 s, then the same 503: it took 5.8 s). The route waits at most <see cref="ReconnectWait"/> for a reconnection
/// under way (the client retries every second, see AddApplicationServices), then throws what a failed command throws, so the answer is the
/// service's one 503 + <c>Retry-After</c> for the outage (<see cref="Microsoft.Extensions.Hosting.DependencyUnavailableHandler"/>). A Redis
/// that is connected but slow is not caught here: the gateway's route timeout answers that (504).
/// </summary>
internal sealed class RedisConnectedFilter(IConnectionMultiplexer redis) : IEndpointFilter
{
    /// <summary>How long a route waits for the connection to come back before it answers 503.</summary>
    public static readonly TimeSpan ReconnectWait = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var deadline = DateTime.UtcNow + ReconnectWait;
        while (!redis.IsConnected)
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new RedisConnectionException(ConnectionFailureType.UnableToConnect,
                    $"No connection to Redis came back within {ReconnectWait.TotalMilliseconds:0} ms; the route did not wait for the command timeout.");
            }
            await Task.Delay(Poll, context.HttpContext.RequestAborted);
        }
        return await next(context);
    }
}
