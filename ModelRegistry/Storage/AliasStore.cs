using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>
/// Aliases, their history and rollback. Every change writes the alias and its history row in the caller's unit of work, so a change
/// made for a rollout (<see cref="ApplyEditsAsync"/>) commits or rolls back with the rollout's own state.
/// </summary>
public sealed class AliasStore(RegistryUnitOfWork work)
{
    /// <summary>
    /// Points <paramref name="alias"/> at a version and records the change; setting what is already set changes nothing and publishes nothing.
    /// <paramref name="forcedOver"/>: the contract differences the caller forced the move over, recorded with it.
    /// </summary>
    public async Task<StoreResult<AliasUpdate>> SetAliasAsync(
        string name, string alias, int version, int? weight, string reason, Caller caller, CancellationToken cancellationToken,
        IReadOnlyList<string>? forcedOver = null)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var target = await write.Models.ReadVersionAsync(name, version, cancellationToken);
        if (target is null)
        {
            return await write.Models.ExistsAsync(name, cancellationToken)
                ? StoreResult<AliasUpdate>.NotFound($"Model '{name}' has no version {version}.")
                : StoreResult<AliasUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        if (target.Archived)
        {
            return StoreResult<AliasUpdate>.Conflict($"Version {version} of '{name}' is archived; an alias cannot point at it.");
        }
        var current = await write.Aliases.FindAsync(name, alias, cancellationToken);
        var updated = new AliasInfo(alias, version, weight);
        if (current == updated)
        {
            return StoreResult<AliasUpdate>.Ok(new AliasUpdate(updated, null));
        }
        var change = await ChangeAsync(write, name, alias, current?.Version, target, weight, reason, caller, AliasChange.KindSet, cancellationToken,
            forcedOver);
        await write.CommitAsync(cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(updated, change));
    }

    public async Task<StoreResult<AliasUpdate>> DeleteAliasAsync(string name, string alias, string reason, Caller caller, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var current = await write.Aliases.FindAsync(name, alias, cancellationToken);
        if (current is null)
        {
            return StoreResult<AliasUpdate>.NotFound(await write.Models.ExistsAsync(name, cancellationToken)
                ? $"Model '{name}' has no alias '{alias}'."
                : $"Model '{name}' does not exist.");
        }
        var change = await ChangeAsync(write, name, alias, current.Version, null, null, reason, caller, AliasChange.KindDeleted, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(null, change));
    }

    /// <summary>Moves <c>production</c> back as <see cref="RollbackPlanner"/> decides, recording a <c>rollback</c> change.</summary>
    public async Task<StoreResult<AliasUpdate>> RollbackAsync(string name, string reason, Caller caller, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var result = await RollbackAsync(write, name, reason, caller, cancellationToken);
        if (result.Status == StoreStatus.Ok)
        {
            await write.CommitAsync(cancellationToken);
        }
        return result;
    }

    public async Task<StoreResult<IReadOnlyList<AliasChange>>> GetAliasHistoryAsync(string name, string alias, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        if (!await read.Models.ExistsAsync(name, cancellationToken))
        {
            return StoreResult<IReadOnlyList<AliasChange>>.NotFound($"Model '{name}' does not exist.");
        }
        return StoreResult<IReadOnlyList<AliasChange>>.Ok(await read.Aliases.ReadHistoryAsync(name, alias, cancellationToken));
    }

    /// <summary>
    /// Applies <paramref name="edits"/> to <paramref name="name"/>'s aliases inside <paramref name="write"/> (which the caller commits).
    /// An edit that cannot apply (its version archived, the alias moved on) is refused and the others still apply.
    /// </summary>
    public static async Task<AliasEditOutcome> ApplyEditsAsync(RegistryTransaction write, string name, IReadOnlyList<AliasEdit> edits, Caller caller,
        CancellationToken cancellationToken)
    {
        var applied = new List<AliasUpdate>();
        var refused = new List<string>();
        foreach (var edit in edits)
        {
            var current = await write.Aliases.FindAsync(name, edit.Alias, cancellationToken);
            if (edit.OnlyIfAt is { } expected && current?.Version != expected)
            {
                refused.Add(current is null
                    ? $"'{edit.Alias}' of '{name}' no longer exists"
                    : $"'{edit.Alias}' of '{name}' moved to version {current.Version}");
                continue;
            }
            if (edit.Rollback)
            {
                var rolledBack = await RollbackAsync(write, name, edit.Reason, caller, cancellationToken);
                if (rolledBack.Status == StoreStatus.Ok)
                {
                    applied.Add(rolledBack.Value!);
                }
                else
                {
                    refused.Add(rolledBack.Error!);
                }
                continue;
            }
            if (edit.Version is not { } version)
            {
                if (current is not null)
                {
                    applied.Add(new AliasUpdate(null, await ChangeAsync(write, name, edit.Alias, current.Version, null, null,
                        edit.Reason, caller, AliasChange.KindDeleted, cancellationToken)));
                }
                continue;
            }
            var target = await write.Models.ReadVersionAsync(name, version, cancellationToken);
            if (target is null || target.Archived)
            {
                refused.Add(target is null ? $"Model '{name}' has no version {version}." : $"Version {version} of '{name}' is archived; an alias cannot point at it.");
                continue;
            }
            var updated = new AliasInfo(edit.Alias, version, edit.Weight);
            if (current != updated)
            {
                applied.Add(new AliasUpdate(updated, await ChangeAsync(write, name, edit.Alias, current?.Version, target,
                    edit.Weight, edit.Reason, caller, AliasChange.KindSet, cancellationToken, edit.ForcedOver)));
            }
        }
        return new AliasEditOutcome(applied, refused);
    }

    private static async Task<StoreResult<AliasUpdate>> RollbackAsync(RegistryTransaction write, string name, string reason, Caller caller,
        CancellationToken cancellationToken)
    {
        const string production = RollbackPlanner.ProductionAlias;
        if (!await write.Models.ExistsAsync(name, cancellationToken))
        {
            return StoreResult<AliasUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        var current = await write.Aliases.FindAsync(name, production, cancellationToken);
        if (current is null)
        {
            return StoreResult<AliasUpdate>.Conflict($"Model '{name}' has no '{production}' alias, so there is nothing to roll back.");
        }
        var history = await write.Aliases.ReadHistoryAsync(name, production, cancellationToken);
        var versions = await write.Models.ReadVersionsAsync(name, null, cancellationToken);
        var archived = versions.Where(v => v.Archived).Select(v => v.Version).ToHashSet();
        var targetVersion = RollbackPlanner.ChooseTarget(history, current.Version, archived);
        if (targetVersion is null)
        {
            return StoreResult<AliasUpdate>.Conflict(
                $"'{production}' of '{name}' is at version {current.Version} and held no earlier version that was not itself rolled back from (or archived); there is nothing to roll back to.");
        }
        var target = versions.Single(v => v.Version == targetVersion);
        var change = await ChangeAsync(write, name, production, current.Version, target, null, reason, caller, AliasChange.KindRollback, cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(new AliasInfo(production, target.Version, null), change));
    }

    /// <summary>Moves or deletes (<paramref name="target"/> null) the alias and appends its history row, both at the same instant.</summary>
    private static async Task<AliasChangedEvent> ChangeAsync(RegistryTransaction write, string name, string alias, int? fromVersion,
        ModelVersion? target, int? weight, string reason, Caller caller, string kind, CancellationToken cancellationToken,
        IReadOnlyList<string>? forcedOver = null)
    {
        var now = write.Clock.GetUtcNow();
        await write.Aliases.WriteAsync(name, alias, target?.Version, weight, now, cancellationToken);
        await write.Aliases.AppendHistoryAsync(name,
            new AliasChange(alias, fromVersion, target?.Version, weight, now, caller.Actor, caller.Role, reason, kind)
            {
                Forced = forcedOver is null ? null : true,
                Differences = forcedOver,
            }, cancellationToken);
        return new AliasChangedEvent(name, alias, target?.Version, fromVersion, weight, target?.Sha256, now);
    }
}
