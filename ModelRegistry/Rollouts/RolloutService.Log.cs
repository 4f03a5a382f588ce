namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>The rollout service's log messages (kept apart so the service stays one readable file).</summary>
public sealed partial class RolloutService
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Rollout {Id} of {Model} version {Version} started with steps {Steps}")]
    private static partial void LogStarted(ILogger logger, string model, int version, string id, string steps);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Model} version {Version}: {Id} {Status}: {Reason}")]
    private static partial void LogFinished(ILogger logger, string model, int version, string id, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Model}: {Id} left an alias alone: {Refusal}")]
    private static partial void LogAliasRefused(ILogger logger, string model, string id, string refusal);
}
