using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Storage;
using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>The <c>rollouts</c> rows of one unit of work, each the whole record as JSON with a revision that every update bumps.</summary>
public sealed class RolloutTable(RegistryTransaction work)
{
    /// <summary>Inserts a new rollout at revision 1; false when another rollout of the model is running (a unique index says so).</summary>
    public async Task<bool> TryInsertAsync(Rollout rollout, CancellationToken cancellationToken)
    {
        using var command = work.Command("""
            INSERT INTO rollouts (id, model, kind, status, revision, created_at, state_json)
            VALUES ($id, $model, $kind, $status, 1, $created, $json)
            """);
        command.Parameters.AddWithValue("$id", rollout.Id);
        command.Parameters.AddWithValue("$model", rollout.Model);
        command.Parameters.AddWithValue("$kind", rollout.Kind);
        command.Parameters.AddWithValue("$status", rollout.Status);
        command.Parameters.AddWithValue("$created", Format(rollout.CreatedAt));
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

    /// <summary>Replaces the row with <paramref name="updated"/> if it is still at <paramref name="revision"/> (and running, when asked); false otherwise.</summary>
    public async Task<bool> TryUpdateAsync(Rollout updated, long revision, bool whileRunning, CancellationToken cancellationToken)
    {
        using var command = work.Command($"""
            UPDATE rollouts SET status = $status, revision = revision + 1, state_json = $json
            WHERE id = $id AND revision = $revision{(whileRunning ? " AND status = 'running'" : "")}
            """);
        command.Parameters.AddWithValue("$id", updated.Id);
        command.Parameters.AddWithValue("$status", updated.Status);
        command.Parameters.AddWithValue("$revision", revision);
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(updated, Json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<(Rollout Rollout, long Revision)?> FindAsync(string model, string id, CancellationToken cancellationToken)
    {
        var found = await QueryAsync("WHERE id = $id AND model = $model", cancellationToken, ("$id", id), ("$model", model));
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>The model's rollouts and guards, newest first (the latest 100).</summary>
    public async Task<List<Rollout>> ListAsync(string model, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE model = $model ORDER BY created_at DESC, rowid DESC LIMIT 100", cancellationToken, ("$model", model)))
            .Select(r => r.Rollout).ToList();

    public Task<List<(Rollout Rollout, long Revision)>> ListRunningAsync(CancellationToken cancellationToken) =>
        QueryAsync("WHERE status = 'running' ORDER BY created_at", cancellationToken);

    private async Task<List<(Rollout Rollout, long Revision)>> QueryAsync(string where, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        using var command = work.Command("SELECT state_json, revision FROM rollouts " + where);
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
