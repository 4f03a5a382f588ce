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
    private readonly ConcurrentDictionary<ResourceCommandAnnotation, byte> _wrapped = new();

    /// <summary>An operator started, stopped or restarted the instance (never raised for the supervisor's own starts).</summary>
    public event Action<string>? OperatorAction;

    /// <summary>
    /// True from a Stop command until the next Start, and for the length of a Restart or Rebuild. A command names either the instance
    /// (<paramref name="resourceId"/>) or, for every instance at once, the resource (<paramref name="resourceName"/>, as tests and
    /// <c>aspire resource</c> often do).
    /// </summary>
    public bool IsStopping(string resourceId, string resourceName) => _stopping.ContainsKey(resourceId) || _stopping.ContainsKey(resourceName);

    /// <summary>The supervisor is about to run Start itself: that Start is a restart, not an operator's fresh start.</summary>
    public void StartingOnItsBehalf(string resourceId) => _supervisorStarts[resourceId] = 0;

    private void Started(string name)
    {
        _stopping.TryRemove(name, out _);
        // A Start by resource name ends a Stop by instance id too, and the other way round.
        foreach (var stopped in _stopping.Keys.Where(k => IsInstanceOf(k, name) || IsInstanceOf(name, k)))
        {
            _stopping.TryRemove(stopped, out _);
        }
    }

    /// <summary>Instance ids are the resource name, a dash and one suffix (<c>batchscorer-2-abcd</c> is an instance of <c>batchscorer-2</c>, not of <c>batchscorer</c>).</summary>
    private static bool IsInstanceOf(string id, string name) =>
        id.Length > name.Length + 1 && id.StartsWith(name + "-", StringComparison.Ordinal) && !id.AsSpan(name.Length + 1).Contains('-');

    /// <summary>Replaces the lifecycle commands of <paramref name="resource"/> with ones that record intent and then run the original.</summary>
    public void Wrap(IResource resource)
    {
        lock (resource.Annotations)
        {
            WrapUnwrapped(resource);
        }
    }

    private void WrapUnwrapped(IResource resource)
    {
        var annotations = resource.Annotations.OfType<ResourceCommandAnnotation>().Where(c => !_wrapped.ContainsKey(c)).ToList();
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
                    Started(context.ResourceName);
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
                        Started(context.ResourceName);
                    }
                };
            }
            if (wrapped is null)
            {
                continue;
            }
            var index = resource.Annotations.IndexOf(command);
            var replacement = new ResourceCommandAnnotation(command.Name, command.DisplayName, command.UpdateState, wrapped,
                command.DisplayDescription, command.Arguments, command.ConfirmationMessage, command.IconName, command.IconVariant,
                command.IsHighlighted, command.Visibility, command.ValidateArguments);
            _wrapped[replacement] = 0;
            resource.Annotations[index] = replacement;
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
