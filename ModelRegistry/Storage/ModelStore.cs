using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Aliases;
using MlPlatform.ModelRegistry.Events;
using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Storage;

public enum StoreStatus
{
    Ok,
    NotFound,
    Conflict,
}

/// <summary>The outcome of a store operation: a value, or why there is none.</summary>
public readonly record struct StoreResult<T>(StoreStatus Status, T? Value, string? Error)
{
    public static StoreResult<T> Ok(T value) => new(StoreStatus.Ok, value, null);
    public static StoreResult<T> NotFound(string error) => new(StoreStatus.NotFound, default, error);
    public static StoreResult<T> Conflict(string error) => new(StoreStatus.Conflict, default, error);
}

/// <summary>A version created by a registration, or the one an earlier request with the same <c>Idempotency-Key</c> created.</summary>
public sealed record CreatedVersion(ModelVersion Version, bool Replayed);

/// <summary>The result of an alias change: the alias now (null when deleted) and the event to publish (null when nothing changed).</summary>
public sealed record AliasUpdate(AliasInfo? Alias, AliasChangedEvent? Event);

/// <summary>
/// An alias change made inside another write's transaction (a rollout's state moves together with its aliases). <see cref="Version"/>
/// null deletes the alias; <see cref="OnlyIfAt"/> applies the change only while the alias points at that version (someone may have
/// moved it by hand); <see cref="Rollback"/> moves <c>production</c> back as <see cref="RollbackPlanner"/> decides.
/// </summary>
public sealed record AliasEdit(string Alias, int? Version, int? Weight, string Reason, int? OnlyIfAt = null, bool Rollback = false)
{
    public static AliasEdit Set(string alias, int version, int? weight, string reason) => new(alias, version, weight, reason);

    public static AliasEdit Remove(string alias, int onlyIfAt, string reason) => new(alias, null, null, reason, onlyIfAt);

    public static AliasEdit RollBackProduction(int onlyIfAt, string reason) =>
        new(RollbackPlanner.ProductionAlias, null, null, reason, onlyIfAt, Rollback: true);
}

/// <summary>What a list of <see cref="AliasEdit"/>s did: the events to publish once committed, and why any edit was not applied.</summary>
public sealed record AliasEditOutcome(IReadOnlyList<AliasUpdate> Applied, IReadOnlyList<string> Refused);

/// <summary>The result of a serving settings change: the settings now and the event to publish (null when nothing changed).</summary>
public sealed record ServingUpdate(ServingSettings Settings, ServingChangedEvent? Event);

/// <summary>Reads and writes model metadata in the registry database. Writers use <c>BEGIN IMMEDIATE</c>, so they are serialised by SQLite itself.</summary>
public sealed class ModelStore(RegistryDatabase database, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<PaginatedItems<ModelSummary>> ListModelsAsync(
        int pageIndex, int pageSize, string? namePrefix, KeyValuePair<string, string>? tag, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        const string filter = """
            WHERE m.name LIKE $prefix ESCAPE '\'
              AND ($tagKey IS NULL OR EXISTS (
                  SELECT 1 FROM versions v, json_each(v.tags_json) t
                  WHERE v.model = m.name AND v.archived_at IS NULL AND t.key = $tagKey AND t.value = $tagValue))
            """;
        void Bind(SqliteCommand command)
        {
            command.Parameters.AddWithValue("$prefix", EscapeLike(namePrefix ?? "") + "%");
            command.Parameters.AddWithValue("$tagKey", (object?)tag?.Key ?? DBNull.Value);
            command.Parameters.AddWithValue("$tagValue", (object?)tag?.Value ?? DBNull.Value);
        }

        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM models m {filter}";
        Bind(count);
        var total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);

        using var query = connection.CreateCommand();
        query.CommandText = $"""
            SELECT m.name, m.created_at, (SELECT COALESCE(MAX(version), 0) FROM versions WHERE model = m.name)
            FROM models m {filter}
            ORDER BY m.name LIMIT $limit OFFSET $offset
            """;
        Bind(query);
        query.Parameters.AddWithValue("$limit", pageSize);
        query.Parameters.AddWithValue("$offset", (long)pageIndex * pageSize);
        var rows = new List<(string Name, DateTimeOffset CreatedAt, int Latest)>();
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetInt32(2)));
            }
        }

        var aliases = await ReadAliasesAsync(connection, rows.Select(r => r.Name).ToList(), cancellationToken);
        var items = rows.Select(r => new ModelSummary(r.Name, r.CreatedAt, r.Latest, aliases[r.Name].ToList())).ToList();
        return new PaginatedItems<ModelSummary>(pageIndex, pageSize, total, items);
    }

    public async Task<ModelDetails?> GetModelAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT created_at FROM models WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        if (await command.ExecuteScalarAsync(cancellationToken) is not string createdAt)
        {
            return null;
        }
        var versions = await ReadVersionsAsync(connection, null, name, null, cancellationToken);
        var aliases = await ReadAliasesAsync(connection, null, name, cancellationToken);
        return new ModelDetails(name, ParseTime(createdAt), versions.Count == 0 ? 0 : versions[^1].Version, versions, aliases);
    }

    public async Task<ModelVersion?> GetVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await ReadVersionsAsync(connection, null, name, version, cancellationToken)).SingleOrDefault();
    }

    /// <summary>The signature recorded for a blob that passed inspection, or null for unknown bytes.</summary>
    public async Task<ModelSignature?> FindBlobSignatureAsync(string sha256, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT signature_json FROM blobs WHERE sha256 = $sha";
        command.Parameters.AddWithValue("$sha", sha256);
        return await command.ExecuteScalarAsync(cancellationToken) is string json
            ? JsonSerializer.Deserialize<ModelSignature>(json, Json)
            : null;
    }

    public async Task<bool> BlobExistsAsync(string sha256, CancellationToken cancellationToken) =>
        await FindBlobSignatureAsync(sha256, cancellationToken) is not null;

    public async Task AddBlobAsync(string sha256, long sizeBytes, ModelSignature signature, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO blobs (sha256, size_bytes, signature_json, created_at) VALUES ($sha, $size, $signature, $at)
            ON CONFLICT (sha256) DO NOTHING
            """;
        command.Parameters.AddWithValue("$sha", sha256);
        command.Parameters.AddWithValue("$size", sizeBytes);
        command.Parameters.AddWithValue("$signature", JsonSerializer.Serialize(signature, Json));
        command.Parameters.AddWithValue("$at", Now());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Creates the next version of <paramref name="name"/> (creating the model on its first version). With an idempotency key already used
    /// for this model within <paramref name="keyLifetime"/>, returns that earlier version instead, or a conflict when it has other bytes.
    /// </summary>
    public async Task<StoreResult<CreatedVersion>> CreateVersionAsync(
        string name, string sha256, string? description, IReadOnlyDictionary<string, string> tags,
        string? idempotencyKey, TimeSpan keyLifetime, string? createdBy, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var now = Now();

        if (idempotencyKey is not null)
        {
            using var find = Command(connection, transaction, """
                SELECT version, sha256 FROM idempotency_keys WHERE model = $name AND key = $key AND created_at >= $since
                """);
            find.Parameters.AddWithValue("$name", name);
            find.Parameters.AddWithValue("$key", idempotencyKey);
            find.Parameters.AddWithValue("$since", Format(clock.GetUtcNow() - keyLifetime));
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var (earlierVersion, earlierSha) = (reader.GetInt32(0), reader.GetString(1));
                await reader.DisposeAsync();
                if (earlierSha != sha256)
                {
                    return StoreResult<CreatedVersion>.Conflict(
                        $"Idempotency-Key '{idempotencyKey}' was already used for version {earlierVersion} of '{name}' with different bytes.");
                }
                var earlier = (await ReadVersionsAsync(connection, transaction, name, earlierVersion, cancellationToken)).Single();
                return StoreResult<CreatedVersion>.Ok(new CreatedVersion(earlier, Replayed: true));
            }
        }

        using (var ensureModel = Command(connection, transaction,
            "INSERT INTO models (name, created_at) VALUES ($name, $at) ON CONFLICT (name) DO NOTHING"))
        {
            ensureModel.Parameters.AddWithValue("$name", name);
            ensureModel.Parameters.AddWithValue("$at", now);
            await ensureModel.ExecuteNonQueryAsync(cancellationToken);
        }

        int version;
        using (var next = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE model = $name"))
        {
            next.Parameters.AddWithValue("$name", name);
            version = Convert.ToInt32(await next.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        using (var insert = Command(connection, transaction, """
            INSERT INTO versions (model, version, sha256, description, tags_json, created_at, created_by)
            VALUES ($name, $version, $sha, $description, $tags, $at, $createdBy)
            """))
        {
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$version", version);
            insert.Parameters.AddWithValue("$sha", sha256);
            insert.Parameters.AddWithValue("$description", (object?)description ?? DBNull.Value);
            insert.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(tags, Json));
            insert.Parameters.AddWithValue("$at", now);
            insert.Parameters.AddWithValue("$createdBy", (object?)createdBy ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (idempotencyKey is not null)
        {
            using var remember = Command(connection, transaction, """
                INSERT INTO idempotency_keys (model, key, version, sha256, created_at) VALUES ($name, $key, $version, $sha, $at)
                ON CONFLICT (model, key) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, created_at = excluded.created_at
                """);
            remember.Parameters.AddWithValue("$name", name);
            remember.Parameters.AddWithValue("$key", idempotencyKey);
            remember.Parameters.AddWithValue("$version", version);
            remember.Parameters.AddWithValue("$sha", sha256);
            remember.Parameters.AddWithValue("$at", now);
            await remember.ExecuteNonQueryAsync(cancellationToken);
        }

        var created = (await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).Single();
        await transaction.CommitAsync(cancellationToken);
        return StoreResult<CreatedVersion>.Ok(new CreatedVersion(created, Replayed: false));
    }

    public async Task<ModelVersion?> PatchVersionAsync(string name, int version, VersionPatch patch, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        using (var update = Command(connection, transaction, """
            UPDATE versions SET description = COALESCE($description, description), tags_json = COALESCE($tags, tags_json)
            WHERE model = $name AND version = $version
            """))
        {
            update.Parameters.AddWithValue("$name", name);
            update.Parameters.AddWithValue("$version", version);
            update.Parameters.AddWithValue("$description", (object?)patch.Description ?? DBNull.Value);
            update.Parameters.AddWithValue("$tags", patch.Tags is null ? DBNull.Value : JsonSerializer.Serialize(patch.Tags, Json));
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return null;
            }
        }
        var patched = (await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).Single();
        await transaction.CommitAsync(cancellationToken);
        return patched;
    }

    /// <summary>Marks a version archived (its artifact stays for audit); refused while an alias points at it.</summary>
    public async Task<StoreResult<ModelVersion>> ArchiveVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        if ((await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).SingleOrDefault() is null)
        {
            return StoreResult<ModelVersion>.NotFound($"Model '{name}' has no version {version}.");
        }
        var pointing = (await ReadAliasesAsync(connection, transaction, name, cancellationToken)).Where(a => a.Version == version).ToList();
        if (pointing.Count > 0)
        {
            return StoreResult<ModelVersion>.Conflict(
                $"Version {version} of '{name}' cannot be archived while alias(es) {string.Join(", ", pointing.Select(a => $"'{a.Name}'"))} point at it; move or delete them first.");
        }
        using (var archive = Command(connection, transaction,
            "UPDATE versions SET archived_at = COALESCE(archived_at, $at) WHERE model = $name AND version = $version"))
        {
            archive.Parameters.AddWithValue("$name", name);
            archive.Parameters.AddWithValue("$version", version);
            archive.Parameters.AddWithValue("$at", Now());
            await archive.ExecuteNonQueryAsync(cancellationToken);
        }
        var archived = (await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).Single();
        await transaction.CommitAsync(cancellationToken);
        return StoreResult<ModelVersion>.Ok(archived);
    }

    public async Task<StoreResult<ServingSettings>> GetServingAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1, serving_json FROM models WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return StoreResult<ServingSettings>.NotFound($"Model '{name}' does not exist.");
        }
        return StoreResult<ServingSettings>.Ok(reader.IsDBNull(1)
            ? ServingSettings.Defaults
            : JsonSerializer.Deserialize<ServingSettings>(reader.GetString(1), Json) ?? ServingSettings.Defaults);
    }

    /// <summary>Replaces a model's serving settings; replacing them with equal ones changes nothing and publishes nothing.</summary>
    public async Task<StoreResult<ServingUpdate>> PutServingAsync(string name, ServingSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        string? current;
        using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT 1, serving_json FROM models WHERE name = $name";
            read.Parameters.AddWithValue("$name", name);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return StoreResult<ServingUpdate>.NotFound($"Model '{name}' does not exist.");
            }
            current = reader.IsDBNull(1) ? null : reader.GetString(1);
        }
        var json = JsonSerializer.Serialize(settings, Json);
        if (json == (current ?? JsonSerializer.Serialize(ServingSettings.Defaults, Json)))
        {
            return StoreResult<ServingUpdate>.Ok(new ServingUpdate(settings, null));
        }
        using (var write = connection.CreateCommand())
        {
            write.Transaction = transaction;
            write.CommandText = "UPDATE models SET serving_json = $json WHERE name = $name";
            write.Parameters.AddWithValue("$name", name);
            write.Parameters.AddWithValue("$json", json);
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return StoreResult<ServingUpdate>.Ok(new ServingUpdate(settings, new ServingChangedEvent(name, clock.GetUtcNow())));
    }

    /// <summary>Points <paramref name="alias"/> at a version and records the change; setting what is already set changes nothing and publishes nothing.</summary>
    public async Task<StoreResult<AliasUpdate>> SetAliasAsync(
        string name, string alias, int version, int? weight, string reason, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var target = (await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).SingleOrDefault();
        if (target is null)
        {
            return await ModelExistsAsync(connection, transaction, name, cancellationToken)
                ? StoreResult<AliasUpdate>.NotFound($"Model '{name}' has no version {version}.")
                : StoreResult<AliasUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        if (target.Archived)
        {
            return StoreResult<AliasUpdate>.Conflict($"Version {version} of '{name}' is archived; an alias cannot point at it.");
        }
        var current = (await ReadAliasesAsync(connection, transaction, name, cancellationToken)).SingleOrDefault(a => a.Name == alias);
        var updated = new AliasInfo(alias, version, weight);
        if (current == updated)
        {
            return StoreResult<AliasUpdate>.Ok(new AliasUpdate(updated, null));
        }
        var change = await ApplyAliasChangeAsync(connection, transaction, name, alias, current?.Version, target, weight, reason, caller,
            AliasChange.KindSet, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(updated, change));
    }

    public async Task<StoreResult<AliasUpdate>> DeleteAliasAsync(string name, string alias, string reason, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var current = (await ReadAliasesAsync(connection, transaction, name, cancellationToken)).SingleOrDefault(a => a.Name == alias);
        if (current is null)
        {
            return StoreResult<AliasUpdate>.NotFound(await ModelExistsAsync(connection, transaction, name, cancellationToken)
                ? $"Model '{name}' has no alias '{alias}'."
                : $"Model '{name}' does not exist.");
        }
        var change = await ApplyAliasChangeAsync(connection, transaction, name, alias, current.Version, null, null, reason, caller,
            AliasChange.KindDeleted, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(null, change));
    }

    /// <summary>Moves <c>production</c> back as <see cref="RollbackPlanner"/> decides, recording a <c>rollback</c> change.</summary>
    public async Task<StoreResult<AliasUpdate>> RollbackAsync(string name, string reason, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var result = await RollbackAsync(connection, transaction, name, reason, caller, cancellationToken);
        if (result.Status == StoreStatus.Ok)
        {
            await transaction.CommitAsync(cancellationToken);
        }
        return result;
    }

    /// <summary>
    /// Applies <paramref name="edits"/> to <paramref name="name"/>'s aliases inside <paramref name="transaction"/> (which the caller commits).
    /// An edit that cannot apply (its version archived, the alias moved on) is refused and the others still apply.
    /// </summary>
    public async Task<AliasEditOutcome> ApplyAliasEditsAsync(SqliteConnection connection, SqliteTransaction transaction, string name,
        IReadOnlyList<AliasEdit> edits, Caller caller, CancellationToken cancellationToken)
    {
        var applied = new List<AliasUpdate>();
        var refused = new List<string>();
        foreach (var edit in edits)
        {
            var current = (await ReadAliasesAsync(connection, transaction, name, cancellationToken)).SingleOrDefault(a => a.Name == edit.Alias);
            if (edit.OnlyIfAt is { } expected && current?.Version != expected)
            {
                refused.Add(current is null
                    ? $"'{edit.Alias}' of '{name}' no longer exists"
                    : $"'{edit.Alias}' of '{name}' moved to version {current.Version}");
                continue;
            }
            if (edit.Rollback)
            {
                var rolledBack = await RollbackAsync(connection, transaction, name, edit.Reason, caller, cancellationToken);
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
                    applied.Add(new AliasUpdate(null, await ApplyAliasChangeAsync(connection, transaction, name, edit.Alias, current.Version, null, null,
                        edit.Reason, caller, AliasChange.KindDeleted, cancellationToken)));
                }
                continue;
            }
            var target = (await ReadVersionsAsync(connection, transaction, name, version, cancellationToken)).SingleOrDefault();
            if (target is null || target.Archived)
            {
                refused.Add(target is null ? $"Model '{name}' has no version {version}." : $"Version {version} of '{name}' is archived; an alias cannot point at it.");
                continue;
            }
            var updated = new AliasInfo(edit.Alias, version, edit.Weight);
            if (current != updated)
            {
                applied.Add(new AliasUpdate(updated, await ApplyAliasChangeAsync(connection, transaction, name, edit.Alias, current?.Version, target,
                    edit.Weight, edit.Reason, caller, AliasChange.KindSet, cancellationToken)));
            }
        }
        return new AliasEditOutcome(applied, refused);
    }

    private async Task<StoreResult<AliasUpdate>> RollbackAsync(SqliteConnection connection, SqliteTransaction transaction, string name, string reason,
        Caller caller, CancellationToken cancellationToken)
    {
        if (!await ModelExistsAsync(connection, transaction, name, cancellationToken))
        {
            return StoreResult<AliasUpdate>.NotFound($"Model '{name}' does not exist.");
        }
        var current = (await ReadAliasesAsync(connection, transaction, name, cancellationToken))
            .SingleOrDefault(a => a.Name == RollbackPlanner.ProductionAlias);
        if (current is null)
        {
            return StoreResult<AliasUpdate>.Conflict($"Model '{name}' has no '{RollbackPlanner.ProductionAlias}' alias, so there is nothing to roll back.");
        }
        var history = await ReadHistoryAsync(connection, transaction, name, RollbackPlanner.ProductionAlias, cancellationToken);
        var versions = await ReadVersionsAsync(connection, transaction, name, null, cancellationToken);
        var archived = versions.Where(v => v.Archived).Select(v => v.Version).ToHashSet();
        var targetVersion = RollbackPlanner.ChooseTarget(history, current.Version, archived);
        if (targetVersion is null)
        {
            return StoreResult<AliasUpdate>.Conflict(
                $"'{RollbackPlanner.ProductionAlias}' of '{name}' is at version {current.Version} and held no earlier version that was not itself rolled back from (or archived); there is nothing to roll back to.");
        }
        var target = versions.Single(v => v.Version == targetVersion);
        var change = await ApplyAliasChangeAsync(connection, transaction, name, RollbackPlanner.ProductionAlias, current.Version, target, null,
            reason, caller, AliasChange.KindRollback, cancellationToken);
        return StoreResult<AliasUpdate>.Ok(new AliasUpdate(new AliasInfo(RollbackPlanner.ProductionAlias, target.Version, null), change));
    }

    public async Task<StoreResult<IReadOnlyList<AliasChange>>> GetAliasHistoryAsync(string name, string alias, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (!await ModelExistsAsync(connection, null, name, cancellationToken))
        {
            return StoreResult<IReadOnlyList<AliasChange>>.NotFound($"Model '{name}' does not exist.");
        }
        return StoreResult<IReadOnlyList<AliasChange>>.Ok(await ReadHistoryAsync(connection, null, name, alias, cancellationToken));
    }

    private async Task<AliasChangedEvent> ApplyAliasChangeAsync(
        SqliteConnection connection, SqliteTransaction transaction, string name, string alias, int? fromVersion, ModelVersion? target,
        int? weight, string reason, Caller caller, string kind, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        using (var write = Command(connection, transaction, target is null
            ? "DELETE FROM aliases WHERE model = $name AND alias = $alias"
            : """
              INSERT INTO aliases (model, alias, version, weight, updated_at) VALUES ($name, $alias, $version, $weight, $at)
              ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, weight = excluded.weight, updated_at = excluded.updated_at
              """))
        {
            write.Parameters.AddWithValue("$name", name);
            write.Parameters.AddWithValue("$alias", alias);
            write.Parameters.AddWithValue("$version", (object?)target?.Version ?? DBNull.Value);
            write.Parameters.AddWithValue("$weight", (object?)weight ?? DBNull.Value);
            write.Parameters.AddWithValue("$at", Format(now));
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        using (var record = Command(connection, transaction, """
            INSERT INTO alias_history (model, alias, from_version, to_version, weight, at, actor, role, reason, kind)
            VALUES ($name, $alias, $from, $to, $weight, $at, $actor, $role, $reason, $kind)
            """))
        {
            record.Parameters.AddWithValue("$name", name);
            record.Parameters.AddWithValue("$alias", alias);
            record.Parameters.AddWithValue("$from", (object?)fromVersion ?? DBNull.Value);
            record.Parameters.AddWithValue("$to", (object?)target?.Version ?? DBNull.Value);
            record.Parameters.AddWithValue("$weight", (object?)weight ?? DBNull.Value);
            record.Parameters.AddWithValue("$at", Format(now));
            record.Parameters.AddWithValue("$actor", caller.Actor);
            record.Parameters.AddWithValue("$role", (object?)caller.Role ?? DBNull.Value);
            record.Parameters.AddWithValue("$reason", reason);
            record.Parameters.AddWithValue("$kind", kind);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        return new AliasChangedEvent(name, alias, target?.Version, fromVersion, weight, target?.Sha256, now);
    }

    private static async Task<bool> ModelExistsAsync(SqliteConnection connection, SqliteTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT 1 FROM models WHERE name = $name");
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static async Task<List<ModelVersion>> ReadVersionsAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string name, int? version, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, """
            SELECT v.version, v.sha256, b.size_bytes, b.signature_json, v.created_at, v.description, v.tags_json, v.archived_at, v.created_by
            FROM versions v JOIN blobs b ON b.sha256 = v.sha256
            WHERE v.model = $name AND ($version IS NULL OR v.version = $version)
            ORDER BY v.version
            """);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$version", (object?)version ?? DBNull.Value);
        var versions = new List<ModelVersion>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(new ModelVersion(
                name,
                reader.GetInt32(0),
                reader.GetString(1),
                reader.GetInt64(2),
                JsonSerializer.Deserialize<ModelSignature>(reader.GetString(3), Json)!,
                ParseTime(reader.GetString(4)),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(6), Json) ?? [],
                !reader.IsDBNull(7)));
        }
        return versions;
    }

    private static async Task<List<AliasInfo>> ReadAliasesAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT alias, version, weight FROM aliases WHERE model = $name ORDER BY alias");
        command.Parameters.AddWithValue("$name", name);
        var aliases = new List<AliasInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            aliases.Add(new AliasInfo(reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
        }
        return aliases;
    }

    /// <summary>The aliases of several models in one query (a list page).</summary>
    private static async Task<ILookup<string, AliasInfo>> ReadAliasesAsync(
        SqliteConnection connection, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT model, alias, version, weight FROM aliases WHERE model IN (SELECT value FROM json_each($names)) ORDER BY model, alias";
        command.Parameters.AddWithValue("$names", JsonSerializer.Serialize(names, Json));
        var aliases = new List<(string Model, AliasInfo Alias)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            aliases.Add((reader.GetString(0), new AliasInfo(reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3))));
        }
        return aliases.ToLookup(a => a.Model, a => a.Alias, StringComparer.Ordinal);
    }

    private static async Task<List<AliasChange>> ReadHistoryAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string name, string alias, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, """
            SELECT from_version, to_version, weight, at, actor, role, reason, kind FROM alias_history
            WHERE model = $name AND alias = $alias ORDER BY id
            """);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$alias", alias);
        var history = new List<AliasChange>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add(new AliasChange(
                alias,
                reader.IsDBNull(0) ? null : reader.GetInt32(0),
                reader.IsDBNull(1) ? null : reader.GetInt32(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2),
                ParseTime(reader.GetString(3)),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetString(6),
                reader.GetString(7)));
        }
        return history;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private string Now() => Format(clock.GetUtcNow());

    private static string Format(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
