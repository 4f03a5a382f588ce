using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Model;
using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>The <c>models</c> and <c>versions</c> rows of one unit of work (a version row joins its blob for size and signature).</summary>
public sealed class ModelTable(RegistryTransaction work)
{
    private const string ListFilter = """
        WHERE m.name LIKE $prefix ESCAPE '\'
          AND ($tagKey IS NULL OR EXISTS (
              SELECT 1 FROM versions v, json_each(v.tags_json) t
              WHERE v.model = m.name AND v.archived_at IS NULL AND t.key = $tagKey AND t.value = $tagValue))
        """;

    public async Task<long> CountAsync(string? namePrefix, KeyValuePair<string, string>? tag, CancellationToken cancellationToken)
    {
        using var count = work.Command($"SELECT COUNT(*) FROM models m {ListFilter}");
        BindFilter(count, namePrefix, tag);
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>One page of models by name: name, creation time and latest version number.</summary>
    public async Task<List<(string Name, DateTimeOffset CreatedAt, int Latest)>> ListAsync(
        int pageIndex, int pageSize, string? namePrefix, KeyValuePair<string, string>? tag, CancellationToken cancellationToken)
    {
        using var query = work.Command($"""
            SELECT m.name, m.created_at, (SELECT COALESCE(MAX(version), 0) FROM versions WHERE model = m.name)
            FROM models m {ListFilter}
            ORDER BY m.name LIMIT $limit OFFSET $offset
            """);
        BindFilter(query, namePrefix, tag);
        query.Parameters.AddWithValue("$limit", pageSize);
        query.Parameters.AddWithValue("$offset", (long)pageIndex * pageSize);
        var rows = new List<(string Name, DateTimeOffset CreatedAt, int Latest)>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetInt32(2)));
        }
        return rows;
    }

    /// <summary>When the model was created, or null when there is no such model.</summary>
    public async Task<DateTimeOffset?> FindCreatedAtAsync(string name, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT created_at FROM models WHERE name = $name");
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken) is string createdAt ? ParseTime(createdAt) : null;
    }

    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT 1 FROM models WHERE name = $name");
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task EnsureAsync(string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var command = work.Command("INSERT INTO models (name, created_at) VALUES ($name, $at) ON CONFLICT (name) DO NOTHING");
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$at", Format(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> NextVersionAsync(string name, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE model = $name");
        command.Parameters.AddWithValue("$name", name);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task InsertVersionAsync(string name, int version, string sha256, string? description,
        IReadOnlyDictionary<string, string> tags, DateTimeOffset at, string? createdBy, CancellationToken cancellationToken)
    {
        using var insert = work.Command("""
            INSERT INTO versions (model, version, sha256, description, tags_json, created_at, created_by)
            VALUES ($name, $version, $sha, $description, $tags, $at, $createdBy)
            """);
        insert.Parameters.AddWithValue("$createdBy", OrNull(createdBy));
        insert.Parameters.AddWithValue("$name", name);
        insert.Parameters.AddWithValue("$version", version);
        insert.Parameters.AddWithValue("$sha", sha256);
        insert.Parameters.AddWithValue("$description", OrNull(description));
        insert.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(tags, Json));
        insert.Parameters.AddWithValue("$at", Format(at));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Applies the patch's non-null fields; false when there is no such version.</summary>
    public async Task<bool> PatchVersionAsync(string name, int version, VersionPatch patch, CancellationToken cancellationToken)
    {
        using var update = work.Command("""
            UPDATE versions SET description = COALESCE($description, description), tags_json = COALESCE($tags, tags_json)
            WHERE model = $name AND version = $version
            """);
        update.Parameters.AddWithValue("$name", name);
        update.Parameters.AddWithValue("$version", version);
        update.Parameters.AddWithValue("$description", OrNull(patch.Description));
        update.Parameters.AddWithValue("$tags", patch.Tags is null ? DBNull.Value : JsonSerializer.Serialize(patch.Tags, Json));
        return await update.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Marks a version archived by <paramref name="actor"/> for <paramref name="reason"/>; archiving it again keeps the first time, actor and reason.</summary>
    public async Task ArchiveVersionAsync(string name, int version, string? actor, string? reason, CancellationToken cancellationToken)
    {
        using var archive = work.Command("""
            UPDATE versions SET archived_by = CASE WHEN archived_at IS NULL THEN $actor ELSE archived_by END,
                archive_reason = CASE WHEN archived_at IS NULL THEN $reason ELSE archive_reason END,
                archived_at = COALESCE(archived_at, $at)
            WHERE model = $name AND version = $version
            """);
        archive.Parameters.AddWithValue("$name", name);
        archive.Parameters.AddWithValue("$version", version);
        archive.Parameters.AddWithValue("$at", Format(work.Clock.GetUtcNow()));
        archive.Parameters.AddWithValue("$actor", OrNull(actor));
        archive.Parameters.AddWithValue("$reason", OrNull(reason));
        await archive.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The model's versions in order, or only <paramref name="version"/> when given.</summary>
    public async Task<List<ModelVersion>> ReadVersionsAsync(string name, int? version, CancellationToken cancellationToken)
    {
        using var command = work.Command("""
            SELECT v.version, v.sha256, b.size_bytes, b.signature_json, v.created_at, v.description, v.tags_json, v.archived_at, v.created_by,
                v.archived_by, v.archive_reason
            FROM versions v JOIN blobs b ON b.sha256 = v.sha256
            WHERE v.model = $name AND ($version IS NULL OR v.version = $version)
            ORDER BY v.version
            """);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$version", OrNull(version));
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
                !reader.IsDBNull(7))
            {
                ArchivedAt = reader.IsDBNull(7) ? null : ParseTime(reader.GetString(7)),
                ArchivedBy = reader.IsDBNull(9) ? null : reader.GetString(9),
                ArchiveReason = reader.IsDBNull(10) ? null : reader.GetString(10),
            });
        }
        return versions;
    }

    public async Task<ModelVersion?> ReadVersionAsync(string name, int version, CancellationToken cancellationToken) =>
        (await ReadVersionsAsync(name, version, cancellationToken)).SingleOrDefault();

    private static void BindFilter(SqliteCommand command, string? namePrefix, KeyValuePair<string, string>? tag)
    {
        command.Parameters.AddWithValue("$prefix", EscapeLike(namePrefix ?? "") + "%");
        command.Parameters.AddWithValue("$tagKey", OrNull(tag?.Key));
        command.Parameters.AddWithValue("$tagValue", OrNull(tag?.Value));
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
