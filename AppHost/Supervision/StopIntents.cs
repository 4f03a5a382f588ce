using System.Collections.Concurrent;

namespace MlPlatform.AppHost.Supervision;

/// <summary>
/// Which instances were stopped on purpose. The supervised resources' lifecycle commands (Start, Stop, Restart, Rebuild: the dashboard's
/// buttons, <c>aspire resource</c>, tests' <c>ResourceCommandService</c> calls) are wrapped to record it before they run, because a
/// stopped and a killed instance look the same in the resource notifications (both just exit).
/// </summary>
internal sealed class StopIntents
{
    private readonly ConcurrentDictionary<string, byte> _stopping = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _supervisorStarts = new(StringComparer.Ordinal);

    /// <summary>An operator started, stopped or restarted the instance (never raised for the supervisor's own starts).</summary>
    public event Action<string>? OperatorAction;

    /// <summary>True from a Stop command until the next Start, and for the length of a Restart or Rebuild.</summary>
    public bool IsStopping(string resourceId) => _stopping.ContainsKey(resourceId);

    /// <summary>The supervisor is about to run Start itself: that Start is a restart, not an operator's fresh start.</summary>
    public void StartingOnItsBehalf(string resourceId) => _supervisorStarts[resourceId] = 0;

    /// <summary>Replaces the lifecycle commands of <paramref name="resource"/> with ones that record intent and then run the original.</summary>
    public void Wrap(IResource resource)
    {
        var annotations = resource.Annotations.OfType<ResourceCommandAnnotation>().ToList();
        foreach (var command in annotations)
        {
            Func<ExecuteCommandContext, Task<ExecuteCommandResult>>? wrapped = null;
            if (command.Name == KnownResourceCommands.StopCommand)
            {
                wrapped = async context =>
                {
                    _stopping[context.ResourceName] = 0;
                    OperatorAction?.Invoke(context.ResourceName);
                    return await command.ExecuteCommand(context);
                };
            }
            else if (command.Name == KnownResourceCommands.StartCommand)
            {
                wrapped = async context =>
                {
                    if (!_supervisorStarts.TryRemove(context.ResourceName, out _))
                    {
                        OperatorAction?.Invoke(context.ResourceName);
                    }
                    _stopping.TryRemove(context.ResourceName, out _);
                    return await command.ExecuteCommand(context);
                };
            }
            else if (command.Name == KnownResourceCommands.RestartCommand || command.Name == KnownResourceCommands.RebuildCommand)
            {
                wrapped = async context =>
                {
                    _stopping[context.ResourceName] = 0;
                    OperatorAction?.Invoke(context.ResourceName);
                    try
                    {
                        return await command.ExecuteCommand(context);
                    }
                    finally
                    {
                        _stopping.TryRemove(context.ResourceName, out _);
                    }
                };
            }
            if (wrapped is null)
            {
                continue;
            }
            var index = resource.Annotations.IndexOf(command);
            resource.Annotations[index] = new ResourceCommandAnnotation(command.Name, command.DisplayName, command.UpdateState, wrapped,
                command.DisplayDescription, command.Arguments, command.ConfirmationMessage, command.IconName, command.IconVariant,
                command.IsHighlighted, command.Visibility, command.ValidateArguments);
        }
    }
}

/// <summary>The resources the supervisor watches: every project and the local Redis executable of the run.</summary>
internal sealed class SupervisedResources(IEnumerable<IResource> resources)
{
    private readonly HashSet<IResource> _resources = [.. resources];

    public bool Contains(IResource resource) => _resources.Contains(resource);

    public IEnumerable<IResource> All => _resources;
}
