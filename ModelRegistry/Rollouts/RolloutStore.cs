using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>Rollouts and guards in the registry database, each row the whole record as JSON, updated with a revision check.</summary>
public sealed class RolloutStore(RegistryDatabase database)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Inserts a new rollout; false when another rollout of the model is running (a unique index says so).</summary>
    public async Task<bool> TryInsertAsync(Rollout rollout, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO rollouts (id, model, kind, status, revision, created_at, state_json)
            VALUES ($id, $model, $kind, $status, 1, $created, $json)
            """;
        command.Parameters.AddWithValue("$id", rollout.Id);
        command.Parameters.AddWithValue("$model", rollout.Model);
        command.Parameters.AddWithValue("$kind", rollout.Kind);
        command.Parameters.AddWithValue("$status", rollout.Status);
        command.Parameters.AddWithValue("$created", rollout.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(rollout, Json));
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: another one is running
        {
            return false;
        }
    }

    /// <summary>Replaces <paramref name="updated"/> if its row is still at <paramref name="revision"/>; false when someone changed it first.</summary>
    public async Task<bool> TryUpdateAsync(Rollout updated, long revision, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE rollouts SET status = $status, revision = revision + 1, state_json = $json
            WHERE id = $id AND revision = $revision
            """;
        command.Parameters.AddWithValue("$id", updated.Id);
        command.Parameters.AddWithValue("$status", updated.Status);
        command.Parameters.AddWithValue("$revision", revision);
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(updated, Json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<(Rollout Rollout, long Revision)?> GetAsync(string model, string id, CancellationToken cancellationToken)
    {
        var found = await QueryAsync("WHERE id = $id AND model = $model", cancellationToken, ("$id", id), ("$model", model));
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>The model's rollouts and guards, newest first.</summary>
    public async Task<IReadOnlyList<Rollout>> ListAsync(string model, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE model = $model ORDER BY created_at DESC, rowid DESC LIMIT 100", cancellationToken, ("$model", model)))
            .Select(r => r.Rollout).ToList();

    public Task<List<(Rollout Rollout, long Revision)>> ListRunningAsync(CancellationToken cancellationToken) =>
        QueryAsync("WHERE status = 'running' ORDER BY created_at", cancellationToken);

    private async Task<List<(Rollout Rollout, long Revision)>> QueryAsync(string where, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json, revision FROM rollouts " + where;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var rows = new List<(Rollout Rollout, long Revision)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((JsonSerializer.Deserialize<Rollout>(reader.GetString(0), Json)!, reader.GetInt64(1)));
        }
        return rows;
    }
}
