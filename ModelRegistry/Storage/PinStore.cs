namespace MlPlatform.ModelRegistry.Storage;

/// <summary>The result of a pin change: the model's pins now and the events to publish (none when nothing changed).</summary>
public sealed record PinUpdate(IReadOnlyList<VersionPin> Pins, IReadOnlyList<PinChangedEvent> Events);

/// <summary>
/// Versions pinned on every online scorer replica (Triton's repository load/unload). The scorers read them on each reconciliation,
/// so a replica started later honours them too.
/// </summary>
public sealed class PinStore(RegistryUnitOfWork work)
{
    public async Task<StoreResult<IReadOnlyList<VersionPin>>> GetPinsAsync(string name, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        if (!await read.Models.ExistsAsync(name, cancellationToken))
        {
            return StoreResult<IReadOnlyList<VersionPin>>.NotFound($"Model '{name}' does not exist.");
        }
        return StoreResult<IReadOnlyList<VersionPin>>.Ok(await read.Pins.ReadAsync(name, cancellationToken));
    }

    /// <summary>Pins a version; an archived version is a conflict, pinning one already pinned changes nothing.</summary>
    public async Task<StoreResult<PinUpdate>> PinAsync(string name, int version, string by, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var found = await write.Models.ReadVersionAsync(name, version, cancellationToken);
        if (found is null)
        {
            return StoreResult<PinUpdate>.NotFound(await write.Models.ExistsAsync(name, cancellationToken)
                ? $"Model '{name}' has no version {version}."
                : $"Model '{name}' does not exist.");
        }
        if (found.Archived)
        {
            return StoreResult<PinUpdate>.Conflict($"Version {version} of '{name}' is archived; archived versions are not served.");
        }
        var now = write.Clock.GetUtcNow();
        var added = await write.Pins.AddAsync(name, version, now, by, cancellationToken);
        var pins = await write.Pins.ReadAsync(name, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return StoreResult<PinUpdate>.Ok(new PinUpdate(pins, added ? [new PinChangedEvent(name, version, true, now)] : []));
    }

    /// <summary>Releases the pin of <paramref name="version"/>, or every pin of the model when null; releasing none is no error.</summary>
    public async Task<StoreResult<PinUpdate>> UnpinAsync(string name, int? version, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Models.ExistsAsync(name, cancellationToken))
        {
            return StoreResult<PinUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        var now = write.Clock.GetUtcNow();
        var released = await write.Pins.RemoveAsync(name, version, cancellationToken);
        var pins = await write.Pins.ReadAsync(name, cancellationToken);
        await write.CommitAsync(cancellationToken);
        return StoreResult<PinUpdate>.Ok(new PinUpdate(pins, [.. released.Select(v => new PinChangedEvent(name, v, false, now))]));
    }
}
