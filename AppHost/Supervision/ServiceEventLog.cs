using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MlPlatform.AppHost.Supervision;

/// <summary>A crash or restart of a service, as appended to the platform's events stream (field <c>event</c>, like every other event there).</summary>
internal sealed record ServiceEvent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("exitCode")] int? ExitCode,
    [property: JsonPropertyName("restarts")] int Restarts,
    [property: JsonPropertyName("restartInMs")] double? RestartInMs,
    [property: JsonPropertyName("gaveUp")] bool GaveUp,
    [property: JsonPropertyName("at")] DateTimeOffset At)
{
    // The same names as Contracts' RegistryEvents (ServiceCrashed, ServiceRestarted, Channel, LogStream), which the registry's alert
    // evaluator reads; the AppHost does not reference Contracts yet.
    public const string Crashed = "service-crashed";
    public const string Restarted = "service-restarted";
    public const string Channel = "mlplatform:events";
    public const string LogStream = "mlplatform:events:log";
    public const int LogStreamMaxLength = 10_000;
}

/// <summary>
/// Appends <see cref="ServiceEvent"/>s to the events stream (and announces them on the events channel). Redis may be the service that
/// crashed, so events wait in a bounded buffer here and are written, oldest first, once Redis answers again.
/// </summary>
internal sealed partial class ServiceEventLog(IResourceWithConnectionString redis, IOptions<SupervisorOptions> options, ILogger<ServiceEventLog> logger)
    : BackgroundService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<ServiceEvent> _buffer = Channel.CreateBounded<ServiceEvent>(
        new BoundedChannelOptions(options.Value.EventBufferSize) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public void Append(ServiceEvent serviceEvent) => _buffer.Writer.TryWrite(serviceEvent);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ConnectionMultiplexer? connection = null;
        try
        {
            await foreach (var serviceEvent in _buffer.Reader.ReadAllAsync(stoppingToken))
            {
                var json = JsonSerializer.Serialize(serviceEvent, Json);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        connection ??= await ConnectAsync(stoppingToken);
                        var db = connection.GetDatabase();
                        await db.StreamAddAsync(ServiceEvent.LogStream, "event", json, maxLength: ServiceEvent.LogStreamMaxLength, useApproximateMaxLength: true);
                        await db.PublishAsync(RedisChannel.Literal(ServiceEvent.Channel), json);
                        break;
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        if (attempt == 1)
                        {
                            LogWaitingForRedis(logger, serviceEvent.Type, serviceEvent.Instance, ex.Message);
                        }
                        await Task.Delay(RetryDelay, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        var connectionString = await redis.ConnectionStringExpression.GetValueAsync(cancellationToken)
            ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis has no connection string yet.");
        var configuration = ConfigurationOptions.Parse(connectionString);
        // Keeps reconnecting on its own; a command fails after the timeouts below and is retried from the buffer.
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 2000;
        configuration.AsyncTimeout = 2000;
        return await ConnectionMultiplexer.ConnectAsync(configuration);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis cannot take the {Event} event of {Instance} now ({Reason}); it waits in the AppHost until Redis answers")]
    private static partial void LogWaitingForRedis(ILogger logger, string @event, string instance, string reason);
}
