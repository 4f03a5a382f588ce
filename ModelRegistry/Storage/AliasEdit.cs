using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>The result of an alias change: the alias now (null when deleted) and the event to publish (null when nothing changed).</summary>
public sealed record AliasUpdate(AliasInfo? Alias, AliasChangedEvent? Event);

/// <summary>
/// An alias change made inside another write's transaction (a rollout's state moves together with its aliases). <see cref="Version"/>
/// null deletes the alias; <see cref="OnlyIfAt"/> applies the change only while the alias points at that version (someone may have
/// moved it by hand); <see cref="Rollback"/> moves <c>production</c> back as <see cref="RollbackPlanner"/> decides; <see cref="ForcedOver"/>
/// records the signature differences a forced move was made over.
/// </summary>
public sealed record AliasEdit(string Alias, int? Version, int? Weight, string Reason, int? OnlyIfAt = null, bool Rollback = false,
    IReadOnlyList<string>? ForcedOver = null)
{
    public static AliasEdit Set(string alias, int version, int? weight, string reason, IReadOnlyList<string>? forcedOver = null) =>
        new(alias, version, weight, reason, ForcedOver: forcedOver);

    public static AliasEdit Remove(string alias, int onlyIfAt, string reason) => new(alias, null, null, reason, onlyIfAt);

    public static AliasEdit RollBackProduction(int onlyIfAt, string reason) =>
        new(RollbackPlanner.ProductionAlias, null, null, reason, onlyIfAt, Rollback: true);
}

/// <summary>What a list of <see cref="AliasEdit"/>s did: the events to publish once committed, and why any edit was not applied.</summary>
public sealed record AliasEditOutcome(IReadOnlyList<AliasUpdate> Applied, IReadOnlyList<string> Refused);
