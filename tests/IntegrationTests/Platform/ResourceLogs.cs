using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace MlPlatform.IntegrationTests.Platform;

/// <summary>Collects the console log lines of one of the app host's resources, from its start, for tests that check what a service logs.</summary>
public sealed class ResourceLogs : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    private ResourceLogs(DistributedApplication app, string resourceId)
    {
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        _watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
                {
                    foreach (var line in batch)
                    {
                        Lines.Enqueue(line.Content);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>Every line so far, in order.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>Starts collecting the logs of the (single-replica) resource named <paramref name="resource"/>.</summary>
    public static async Task<ResourceLogs> StartAsync(DistributedApplication app, string resource)
    {
        using var cts = new CancellationTokenSource(PlatformFixture.RequestTimeout);
        await foreach (var update in app.ResourceNotifications.WatchAsync(cts.Token))
        {
            if (update.Resource.Name == resource)
            {
                return new ResourceLogs(app, update.ResourceId);
            }
        }
        throw new InvalidOperationException($"No resource '{resource}'.");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
    }
}
