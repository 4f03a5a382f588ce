using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MlPlatform.IntegrationTests.Supervision;

/// <summary>
/// Where a restart's time goes, for the test output (never asserted: times depend on the machine's load): from the kill to the app host
/// reporting the exit, to the supervisor's Start (after its backoff), the new process's exec (its start time in <c>/proc</c>), the first
/// console line of the new run, the service answering its own <c>/health</c>, the app host's health check passing, and whatever the test marks after (the gateway routing to it again).
/// </summary>
public sealed class RestartTimeline : IAsyncDisposable
{
    private readonly Stopwatch _sinceKill = Stopwatch.StartNew();
    private readonly DateTime _killedAt = DateTime.Now;
    private readonly ConcurrentDictionary<string, TimeSpan> _marks = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly Task _logs;
    private readonly string _resourceId;
    private volatile int _newPid;

    private readonly Task _probe;

    private RestartTimeline(DistributedApplication app, string resourceName, string resourceId, int killedPid)
    {
        _resourceId = resourceId;
        // The service's own readiness, probed directly every 100 ms once the new process runs: the app host's health check reports it
        // later, on its own schedule.
        _probe = Task.Run(async () =>
        {
            using var http = app.CreateHttpClient(resourceName, "http");
            http.Timeout = TimeSpan.FromSeconds(2);
            while (!_stop.IsCancellationRequested)
            {
                if (_newPid != 0)
                {
                    try
                    {
                        using var response = await http.GetAsync("/health", _stop.Token);
                        if (response.IsSuccessStatusCode)
                        {
                            Mark("answers /health (probed directly)");
                            return;
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                    }
                }
                await Task.Delay(100, _stop.Token);
            }
        });
        _watching = Task.Run(async () =>
        {
            var exited = false;
            await foreach (var e in app.ResourceNotifications.WatchAsync(_stop.Token))
            {
                if (e.ResourceId != resourceId)
                {
                    continue;
                }
                var state = e.Snapshot.State?.Text;
                var pid = e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
                    ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : 0;
                if (state is not null && KnownResourceStates.TerminalStates.Contains(state))
                {
                    exited = true;
                    Mark("exit reported by the app host");
                }
                else if (exited && state == KnownResourceStates.Starting)
                {
                    Mark("Start issued (after the backoff)");
                }
                if (exited && pid != 0 && pid != killedPid)
                {
                    if (state == KnownResourceStates.Running)
                    {
                        _newPid = pid;
                        Mark("new process reported running");
                    }
                    if (state == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy)
                    {
                        Mark("healthy (app host's health check)");
                        return;
                    }
                }
            }
        });
        _logs = Task.Run(async () =>
        {
            await foreach (var _ in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(resourceId).WithCancellation(_stop.Token))
            {
                // Lines of the old run were delivered long before; the first batch after the new process runs is its own.
                if (_newPid != 0)
                {
                    Mark("first console line of the new run (DCP's 'Starting process')");
                    return;
                }
            }
        });
    }

    /// <summary>Starts the timeline; call right before the kill of <paramref name="killedPid"/>.</summary>
    public static RestartTimeline Start(PlatformFixture platform, string resourceName, string resourceId, int killedPid) =>
        new(platform.App, resourceName, resourceId, killedPid);

    /// <summary>Notes a moment the test saw (the first time only).</summary>
    public void Mark(string what) => _marks.TryAdd(what, _sinceKill.Elapsed);

    /// <summary>The marks in order, with the new process's exec time, as one line for the test output.</summary>
    public string Describe()
    {
        var marks = _marks.ToDictionary();
        if (_newPid != 0)
        {
            try
            {
                marks["new process exec'd (/proc start time)"] = Process.GetProcessById(_newPid).StartTime - _killedAt;
            }
            catch (ArgumentException)
            {
                // Gone again.
            }
        }
        return $"{_resourceId} restart, from the kill: " + string.Join("; ", marks.OrderBy(m => m.Value)
            .Select(m => FormattableString.Invariant($"{m.Key} +{m.Value.TotalSeconds:0.00} s")));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_watching, _logs, _probe);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
