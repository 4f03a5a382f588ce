using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlPlatform.AppHost.Supervision;

/// <summary>
/// Starts a supervised service instance again when it exits without being asked to (killed, crashed), with exponential backoff, and leaves
/// it stopped, marked <c>FailedToStart</c> in the dashboard, once it loops (<see cref="RestartHistory"/>). Instances stopped through their
/// Stop, Restart or Rebuild commands (dashboard, tests) or by the AppHost's shutdown are left alone: <see cref="StopIntents"/> records those.
/// Every crash and restart is logged by the AppHost, written to the instance's console log in the dashboard and appended to the events stream.
/// </summary>
internal sealed partial class ServiceSupervisor(
    SupervisedResources supervised, StopIntents intents, ResourceNotificationService notifications, ResourceCommandService commands,
    ResourceLoggerService resourceLogs, ServiceEventLog events, IOptions<SupervisorOptions> options, IHostApplicationLifetime lifetime,
    TimeProvider time, ILogger<ServiceSupervisor> logger) : BackgroundService
{
    /// <summary>Dashboard property showing the restarts the supervisor made in the current window.</summary>
    public const string RestartsProperty = "supervisor.restarts";

    /// <summary>Dashboard property saying why the supervisor left an instance stopped.</summary>
    public const string StatusProperty = "supervisor.status";

    private readonly ConcurrentDictionary<string, Instance> _instances = new(StringComparer.Ordinal);

    private sealed class Instance(string resourceName, RestartHistory history)
    {
        public string ResourceName { get; } = resourceName;
        public RestartHistory History { get; } = history;
        public string? LastState { get; set; }
        public long Generation { get; set; }

        /// <summary>The run whose exit was last handled (pid and start time), so a repeated report of that exit is not a second crash.</summary>
        public string? LastExitedRun { get; set; }
    }

    /// <summary>
    /// Identifies one run of an instance. Aspire can report a run's exit again after the instance was already being started anew
    /// (the old run's last update arrives after the Start command's own state changes); counted twice, one kill looked like two crashes
    /// and cost a second restart and a doubled backoff.
    /// </summary>
    private static string RunOf(CustomResourceSnapshot snapshot) => string.Create(CultureInfo.InvariantCulture,
        $"{snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value}|{snapshot.StartTimeStamp:O}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        intents.OperatorAction += ForgetHistory;
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken))
            {
                if (supervised.Contains(update.Resource))
                {
                    // Aspire adds the lifecycle commands while it creates the resources; wrapped once they are there.
                    intents.Wrap(update.Resource);
                    await ObserveAsync(update, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            intents.OperatorAction -= ForgetHistory;
        }
    }

    private Instance InstanceOf(ResourceEvent update) =>
        _instances.GetOrAdd(update.ResourceId, _ => new Instance(update.Resource.Name, new RestartHistory(options.Value)));

    /// <summary>An operator's command on an instance, or on a resource (all its instances).</summary>
    private void ForgetHistory(string resourceIdOrName)
    {
        foreach (var (id, instance) in _instances)
        {
            if (id != resourceIdOrName && instance.ResourceName != resourceIdOrName)
            {
                continue;
            }
            lock (instance)
            {
                instance.History.Reset();
                // A restart still waiting for its backoff is dropped: the operator's action wins.
                instance.Generation++;
            }
        }
    }

    private async Task ObserveAsync(ResourceEvent update, CancellationToken stoppingToken)
    {
        var state = update.Snapshot.State?.Text;
        var instance = InstanceOf(update);
        RestartDecision decision;
        long generation;
        lock (instance)
        {
            var wasTerminal = instance.LastState is { } last && KnownResourceStates.TerminalStates.Contains(last);
            if (state != instance.LastState)
            {
                LogTransition(logger, update.ResourceId, instance.LastState, state, RunOf(update.Snapshot), update.Snapshot.ExitCode);
            }
            instance.LastState = state;
            if (state == KnownResourceStates.Running && update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                instance.History.Healthy(time.GetUtcNow());
            }
            if (state is null || !KnownResourceStates.TerminalStates.Contains(state) || wasTerminal)
            {
                return;
            }
            var run = RunOf(update.Snapshot);
            if (run == instance.LastExitedRun)
            {
                LogRepeatedExit(logger, update.ResourceId, state);
                return;
            }
            instance.LastExitedRun = run;
            if (lifetime.ApplicationStopping.IsCancellationRequested || intents.IsStopping(update.ResourceId, update.Resource.Name))
            {
                LogStoppedOnPurpose(logger, update.ResourceId);
                return;
            }
            decision = instance.History.OnExit(time.GetUtcNow());
            generation = ++instance.Generation;
        }

        var exitCode = update.Snapshot.ExitCode;
        var resourceLog = resourceLogs.GetLogger(update.ResourceId);
        var crashed = new ServiceEvent(ServiceEvent.Crashed, update.Resource.Name, update.ResourceId, exitCode, decision.RestartsInWindow,
            decision.GiveUp ? null : decision.Delay.TotalMilliseconds, decision.GiveUp, time.GetUtcNow());
        events.Append(crashed);

        if (decision.GiveUp)
        {
            var window = options.Value.RestartWindow;
            LogGaveUp(logger, update.ResourceId, state, exitCode, decision.RestartsInWindow, window);
            LogGaveUp(resourceLog, update.ResourceId, state, exitCode, decision.RestartsInWindow, window);
            var status = string.Create(CultureInfo.InvariantCulture,
                $"crash loop: exited again after {decision.RestartsInWindow} restarts within {window}; left stopped (Start it once the cause is fixed)");
            await notifications.PublishUpdateAsync(update.Resource, update.ResourceId, snapshot => snapshot with
            {
                State = new ResourceStateSnapshot(KnownResourceStates.FailedToStart, KnownResourceStateStyles.Error),
                Properties = WithProperty(snapshot.Properties, StatusProperty, status),
            });
            return;
        }

        LogCrashed(logger, update.ResourceId, state, exitCode, decision.Delay.TotalMilliseconds, decision.RestartsInWindow, options.Value.MaxRestarts);
        LogCrashed(resourceLog, update.ResourceId, state, exitCode, decision.Delay.TotalMilliseconds, decision.RestartsInWindow, options.Value.MaxRestarts);
        _ = RestartAfterAsync(update.Resource, update.ResourceId, instance, generation, decision, stoppingToken);
    }

    private async Task RestartAfterAsync(IResource resource, string resourceId, Instance instance, long generation, RestartDecision decision,
        CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(decision.Delay, time, stoppingToken);
            lock (instance)
            {
                if (instance.Generation != generation || intents.IsStopping(resourceId, resource.Name) || lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    return;
                }
            }
            intents.StartingOnItsBehalf(resourceId);
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, stoppingToken);
            var resourceLog = resourceLogs.GetLogger(resourceId);
            if (!result.Success)
            {
                LogRestartFailed(logger, resourceId, result.Message);
                LogRestartFailed(resourceLog, resourceId, result.Message);
                return;
            }
            LogRestarted(logger, resourceId, decision.RestartsInWindow);
            LogRestarted(resourceLog, resourceId, decision.RestartsInWindow);
            events.Append(new ServiceEvent(ServiceEvent.Restarted, resource.Name, resourceId, null, decision.RestartsInWindow, null, false, time.GetUtcNow()));
            await notifications.PublishUpdateAsync(resource, resourceId, snapshot => snapshot with
            {
                Properties = WithProperty(snapshot.Properties, RestartsProperty, decision.RestartsInWindow),
            });
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The supervisor must outlive a failed restart; the next exit is handled as usual.
            LogRestartFailed(logger, resourceId, ex.Message);
        }
    }

    private static ImmutableArray<ResourcePropertySnapshot> WithProperty(ImmutableArray<ResourcePropertySnapshot> properties, string name, object value) =>
        [.. properties.Where(p => p.Name != name), new ResourcePropertySnapshot(name, value)];

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Instance}: {From} -> {To} (run {Run}, exit code {ExitCode})")]
    private static partial void LogTransition(ILogger logger, string instance, string? from, string? to, string run, int? exitCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Instance} reported the exit of a run already handled ({State}); ignored")]
    private static partial void LogRepeatedExit(ILogger logger, string instance, string? state);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Instance} stopped on request; not restarting it")]
    private static partial void LogStoppedOnPurpose(ILogger logger, string instance);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Instance} exited without being asked to ({State}, exit code {ExitCode}); starting it again in {DelayMs} ms (restart {Restarts} of at most {MaxRestarts})")]
    private static partial void LogCrashed(ILogger logger, string instance, string? state, int? exitCode, double delayMs, int restarts, int maxRestarts);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Instance} exited again ({State}, exit code {ExitCode}) after {Restarts} restarts within {Window}: crash loop, leaving it stopped and marked failed. Start it from the dashboard once the cause is fixed")]
    private static partial void LogGaveUp(ILogger logger, string instance, string? state, int? exitCode, int restarts, TimeSpan window);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Instance} started again (restart {Restarts})")]
    private static partial void LogRestarted(ILogger logger, string instance, int restarts);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Instance} could not be started again: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string instance, string? reason);
}
