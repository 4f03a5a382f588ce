using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>A version created by a registration, or the one an earlier request with the same <c>Idempotency-Key</c> created.</summary>
public sealed record CreatedVersion(ModelVersion Version, bool Replayed);

/// <summary>Models, their versions and the blob records behind them, each operation one <see cref="RegistryUnitOfWork"/>.</summary>
public sealed class ModelStore(RegistryUnitOfWork work)
{
    public async Task<PaginatedItems<ModelSummary>> ListModelsAsync(
        int pageIndex, int pageSize, string? namePrefix, KeyValuePair<string, string>? tag, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        var total = await read.Models.CountAsync(namePrefix, tag, cancellationToken);
        var rows = await read.Models.ListAsync(pageIndex, pageSize, namePrefix, tag, cancellationToken);
        var aliases = await read.Aliases.ReadAsync(rows.Select(r => r.Name).ToList(), cancellationToken);
        var items = rows.Select(r => new ModelSummary(r.Name, r.CreatedAt, r.Latest, aliases[r.Name].ToList())).ToList();
        return new PaginatedItems<ModelSummary>(pageIndex, pageSize, total, items);
    }

    public async Task<ModelDetails?> GetModelAsync(string name, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        if (await read.Models.FindCreatedAtAsync(name, cancellationToken) is not { } createdAt)
        {
            return null;
        }
        var versions = await read.Models.ReadVersionsAsync(name, null, cancellationToken);
        var aliases = await read.Aliases.ReadAsync(name, cancellationToken);
        return new ModelDetails(name, createdAt, versions.Count == 0 ? 0 : versions[^1].Version, versions, aliases);
    }

    public async Task<ModelVersion?> GetVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        return await read.Models.ReadVersionAsync(name, version, cancellationToken);
    }

    /// <summary>The signature recorded for a blob that passed inspection, or null for unknown bytes.</summary>
    public async Task<ModelSignature?> FindBlobSignatureAsync(string sha256, CancellationToken cancellationToken)
    {
        await using var read = await work.OpenAsync(cancellationToken);
        return await read.Blobs.FindSignatureAsync(sha256, cancellationToken);
    }

    public async Task<bool> BlobExistsAsync(string sha256, CancellationToken cancellationToken) =>
        await FindBlobSignatureAsync(sha256, cancellationToken) is not null;

    public async Task AddBlobAsync(string sha256, long sizeBytes, ModelSignature signature, CancellationToken cancellationToken)
    {
        // A single statement: like every write outside a transaction, SQLite commits it on its own.
        await using var write = await work.OpenAsync(cancellationToken);
        await write.Blobs.AddAsync(sha256, sizeBytes, signature, cancellationToken);
    }

    /// <summary>
    /// Creates the next version of <paramref name="name"/> (creating the model on its first version). With an idempotency key already used
    /// for this model within <paramref name="keyLifetime"/>, returns that earlier version instead, or a conflict when it has other bytes.
    /// </summary>
    public async Task<StoreResult<CreatedVersion>> CreateVersionAsync(
        string name, string sha256, string? description, IReadOnlyDictionary<string, string> tags,
        string? idempotencyKey, TimeSpan keyLifetime, string? createdBy, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        var now = write.Clock.GetUtcNow();
        if (idempotencyKey is not null
            && await write.IdempotencyKeys.FindAsync(name, idempotencyKey, now - keyLifetime, cancellationToken) is var (earlierVersion, earlierSha))
        {
            if (earlierSha != sha256)
            {
                return StoreResult<CreatedVersion>.Conflict(
                    $"Idempotency-Key '{idempotencyKey}' was already used for version {earlierVersion} of '{name}' with different bytes.");
            }
            var earlier = (await write.Models.ReadVersionAsync(name, earlierVersion, cancellationToken))!;
            return StoreResult<CreatedVersion>.Ok(new CreatedVersion(earlier, Replayed: true));
        }

        await write.Models.EnsureAsync(name, now, cancellationToken);
        var version = await write.Models.NextVersionAsync(name, cancellationToken);
        await write.Models.InsertVersionAsync(name, version, sha256, description, tags, now, createdBy, cancellationToken);
        if (idempotencyKey is not null)
        {
            await write.IdempotencyKeys.RememberAsync(name, idempotencyKey, version, sha256, now, cancellationToken);
        }
        var created = (await write.Models.ReadVersionAsync(name, version, cancellationToken))!;
        await write.CommitAsync(cancellationToken);
        return StoreResult<CreatedVersion>.Ok(new CreatedVersion(created, Replayed: false));
    }

    public async Task<ModelVersion?> PatchVersionAsync(string name, int version, VersionPatch patch, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (!await write.Models.PatchVersionAsync(name, version, patch, cancellationToken))
        {
            return null;
        }
        var patched = (await write.Models.ReadVersionAsync(name, version, cancellationToken))!;
        await write.CommitAsync(cancellationToken);
        return patched;
    }

    /// <summary>Marks a version archived (its artifact stays for audit); refused while an alias points at it or it is pinned.</summary>
    public async Task<StoreResult<ModelVersion>> ArchiveVersionAsync(string name, int version, string? actor, string? reason, CancellationToken cancellationToken)
    {
        await using var write = await work.BeginAsync(cancellationToken);
        if (await write.Models.ReadVersionAsync(name, version, cancellationToken) is null)
        {
            return StoreResult<ModelVersion>.NotFound($"Model '{name}' has no version {version}.");
        }
        var pointing = (await write.Aliases.ReadAsync(name, cancellationToken)).Where(a => a.Version == version).ToList();
        if (pointing.Count > 0)
        {
            return StoreResult<ModelVersion>.Conflict(
                $"Version {version} of '{name}' cannot be archived while alias(es) {string.Join(", ", pointing.Select(a => $"'{a.Name}'"))} point at it; move or delete them first.");
        }
        if ((await write.Pins.ReadAsync(name, cancellationToken)).Any(p => p.Version == version))
        {
            return StoreResult<ModelVersion>.Conflict(
                $"Version {version} of '{name}' cannot be archived while it is pinned on the online scorers; unload it first (POST /v2/repository/models/{name}/unload).");
        }
        await write.Models.ArchiveVersionAsync(name, version, actor, reason, cancellationToken);
        var archived = (await write.Models.ReadVersionAsync(name, version, cancellationToken))!;
        await write.CommitAsync(cancellationToken);
        return StoreResult<ModelVersion>.Ok(archived);
    }
}
