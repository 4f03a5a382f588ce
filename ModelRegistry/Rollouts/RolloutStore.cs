using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>A rollout's state change that happened, with the alias changes committed in the same transaction.</summary>
public sealed record RolloutTransition(Rollout Rollout, AliasEditOutcome Aliases);

/// <summary>
/// Rollouts and guards in the registry database. Every change is conditional: it applies only while the row is still <c>running</c> at
/// the revision its writer read, and the alias changes that go with it commit in the same <see cref="RegistryUnitOfWork"/>. So when an
/// abort (the API, on any replica) and the controller's step (the leader) race, whichever commits first wins and the other changes
/// nothing: an aborted rollout never gets its canary back, a promoted one is never aborted. It only persists: deciding what to change
/// (and publishing what changed) is <see cref="RolloutService"/>'s job.
/// </summary>
public sealed class RolloutStore(RegistryUnitOfWork work)
{
    /// <summary>Inserts a new rollout with no alias change; false when another rollout of the model is running.</summary>
    public async Task<bool> TryInsertAsync(Rollout rollout, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Rollouts.TryInsertAsync(rollout, cancellationToken))
        {
            return false;
        }
        await write.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Inserts a new rollout and applies <paramref name="edits"/> in the same transaction; null when another rollout of the model is running.</summary>
    public async Task<RolloutTransition?> TryInsertAsync(Rollout rollout, IReadOnlyList<AliasEdit> edits, Caller caller, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Rollouts.TryInsertAsync(rollout, cancellationToken))
        {
            return null;
        }
        var aliases = await AliasStore.ApplyEditsAsync(write, rollout.Model, edits, caller, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return new RolloutTransition(rollout, aliases);
    }

    /// <summary>Replaces a running rollout with <paramref name="updated"/> if its row is still at <paramref name="revision"/>; false when someone changed it first.</summary>
    public async Task<bool> TryUpdateAsync(Rollout updated, long revision, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Rollouts.TryUpdateAsync(updated, revision, whileRunning: true, cancellationToken))
        {
            return false;
        }
        await write.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Moves a running rollout to <paramref name="updated"/> and applies <paramref name="edits"/> to its model's aliases, in one transaction,
    /// if the row is still running at <paramref name="revision"/>; null (and nothing changed) when another writer moved it first.
    /// <paramref name="complete"/> may rewrite the new state from what the alias edits did (a guard's reason names the version it rolled back to).
    /// </summary>
    public async Task<RolloutTransition?> TryTransitionAsync(Rollout updated, long revision, IReadOnlyList<AliasEdit> edits, Caller caller,
        CancellationToken cancellationToken, Func<Rollout, AliasEditOutcome, Rollout>? complete = null)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Rollouts.TryUpdateAsync(updated, revision, whileRunning: true, cancellationToken))
        {
            return null; // disposing the unit of work rolls it back
        }
        var aliases = await AliasStore.ApplyEditsAsync(write, updated.Model, edits, caller, cancellationToken);
        if (complete?.Invoke(updated, aliases) is { } completed && completed != updated)
        {
            await write.Rollouts.TryUpdateAsync(completed, revision + 1, whileRunning: false, cancellationToken);
            updated = completed;
        }
        await write.CommitAsync(cancellationToken);
        return new RolloutTransition(updated, aliases);
    }

    public async Task<(Rollout Rollout, long Revision)?> GetAsync(string model, string id, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        return await read.Rollouts.FindAsync(model, id, cancellationToken);
    }

    /// <summary>The model's rollouts and guards, newest first.</summary>
    public async Task<IReadOnlyList<Rollout>> ListAsync(string model, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        return await read.Rollouts.ListAsync(model, cancellationToken);
    }

    public async Task<List<(Rollout Rollout, long Revision)>> ListRunningAsync(CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        return await read.Rollouts.ListRunningAsync(cancellationToken);
    }
}
