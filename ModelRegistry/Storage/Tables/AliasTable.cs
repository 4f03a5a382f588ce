using System.Text.Json;
using MlPlatform.ModelRegistry.Model;
using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>The <c>aliases</c> rows and their append-only <c>alias_history</c> in one unit of work.</summary>
public sealed class AliasTable(RegistryTransaction work)
{
    public async Task<List<AliasInfo>> ReadAsync(string model, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT alias, version, weight FROM aliases WHERE model = $name ORDER BY alias");
        command.Parameters.AddWithValue("$name", model);
        var aliases = new List<AliasInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            aliases.Add(new AliasInfo(reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
        }
        return aliases;
    }

    public async Task<AliasInfo?> FindAsync(string model, string alias, CancellationToken cancellationToken) =>
        (await ReadAsync(model, cancellationToken)).SingleOrDefault(a => a.Name == alias);

    /// <summary>The aliases of several models in one query (a list page).</summary>
    public async Task<ILookup<string, AliasInfo>> ReadAsync(IReadOnlyList<string> models, CancellationToken cancellationToken)
    {
        using var command = work.Command(
            "SELECT model, alias, version, weight FROM aliases WHERE model IN (SELECT value FROM json_each($names)) ORDER BY model, alias");
        command.Parameters.AddWithValue("$names", JsonSerializer.Serialize(models, Json));
        var aliases = new List<(string Model, AliasInfo Alias)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            aliases.Add((reader.GetString(0), new AliasInfo(reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3))));
        }
        return aliases.ToLookup(a => a.Model, a => a.Alias, StringComparer.Ordinal);
    }

    /// <summary>Points the alias at <paramref name="version"/>, or deletes it when null.</summary>
    public async Task WriteAsync(string model, string alias, int? version, int? weight, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var write = work.Command(version is null
            ? "DELETE FROM aliases WHERE model = $name AND alias = $alias"
            : """
              INSERT INTO aliases (model, alias, version, weight, updated_at) VALUES ($name, $alias, $version, $weight, $at)
              ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, weight = excluded.weight, updated_at = excluded.updated_at
              """);
        write.Parameters.AddWithValue("$name", model);
        write.Parameters.AddWithValue("$alias", alias);
        write.Parameters.AddWithValue("$version", OrNull(version));
        write.Parameters.AddWithValue("$weight", OrNull(weight));
        write.Parameters.AddWithValue("$at", Format(at));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task AppendHistoryAsync(string model, AliasChange change, CancellationToken cancellationToken)
    {
        using var record = work.Command("""
            INSERT INTO alias_history (model, alias, from_version, to_version, weight, at, actor, role, reason, kind, differences_json)
            VALUES ($name, $alias, $from, $to, $weight, $at, $actor, $role, $reason, $kind, $differences)
            """);
        record.Parameters.AddWithValue("$name", model);
        record.Parameters.AddWithValue("$alias", change.Alias);
        record.Parameters.AddWithValue("$from", OrNull(change.FromVersion));
        record.Parameters.AddWithValue("$to", OrNull(change.ToVersion));
        record.Parameters.AddWithValue("$weight", OrNull(change.Weight));
        record.Parameters.AddWithValue("$at", Format(change.At));
        record.Parameters.AddWithValue("$actor", change.Actor);
        record.Parameters.AddWithValue("$role", OrNull(change.Role));
        record.Parameters.AddWithValue("$reason", change.Reason);
        record.Parameters.AddWithValue("$kind", change.Kind);
        // A move forced past the contract check keeps the differences it was forced over; null for every other change.
        record.Parameters.AddWithValue("$differences", change.Forced == true
            ? JsonSerializer.Serialize(change.Differences ?? [], Json)
            : DBNull.Value);
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The alias's changes, oldest first.</summary>
    public async Task<List<AliasChange>> ReadHistoryAsync(string model, string alias, CancellationToken cancellationToken)
    {
        using var command = work.Command("""
            SELECT from_version, to_version, weight, at, actor, role, reason, kind, differences_json FROM alias_history
            WHERE model = $name AND alias = $alias ORDER BY id
            """);
        command.Parameters.AddWithValue("$name", model);
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
                reader.GetString(7))
            {
                Forced = reader.IsDBNull(8) ? null : true,
                Differences = reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<string[]>(reader.GetString(8), Json),
            });
        }
        return history;
    }
}
