using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Model;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Rollouts;

/// <summary>A rollout's state change that happened, with the alias changes committed in the same transaction.</summary>
public sealed record RolloutTransition(Rollout Rollout, AliasEditOutcome Aliases);

/// <summary>
/// Rollouts and guards in the registry database, each row the whole record as JSON. Every change is conditional: it applies only while
/// the row is still <c>running</c> at the revision its writer read, and the alias changes that go with it commit in the same
/// transaction. So when an abort (the API, on any replica) and the controller's step (the leader) race, whichever commits first wins
/// and the other changes nothing: an aborted rollout never gets its canary back, a promoted one is never aborted.
/// </summary>
public sealed class RolloutStore(RegistryDatabase database, ModelStore models)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Inserts a new rollout; false when another rollout of the model is running (a unique index says so).</summary>
    public async Task<bool> TryInsertAsync(Rollout rollout, CancellationToken cancellationToken) =>
        await TryInsertAsync(rollout, [], RolloutService.ControllerCaller, cancellationToken) is not null;

    /// <summary>Inserts a new rollout and applies <paramref name="edits"/> in the same transaction; null when another rollout of the model is running.</summary>
    public async Task<RolloutTransition?> TryInsertAsync(Rollout rollout, IReadOnlyList<AliasEdit> edits, Caller caller, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
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
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: another one is running
        {
            return null;
        }
        var aliases = await models.ApplyAliasEditsAsync(connection, transaction, rollout.Model, edits, caller, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RolloutTransition(rollout, aliases);
    }

    /// <summary>Replaces a running rollout with <paramref name="updated"/> if its row is still at <paramref name="revision"/>; false when someone changed it first.</summary>
    public async Task<bool> TryUpdateAsync(Rollout updated, long revision, CancellationToken cancellationToken) =>
        await TryTransitionAsync(updated, revision, [], RolloutService.ControllerCaller, cancellationToken) is not null;

    /// <summary>
    /// Moves a running rollout to <paramref name="updated"/> and applies <paramref name="edits"/> to its model's aliases, in one transaction,
    /// if the row is still running at <paramref name="revision"/>; null (and nothing changed) when another writer moved it first.
    /// <paramref name="complete"/> may rewrite the new state from what the alias edits did (a guard's reason names the version it rolled back to).
    /// </summary>
    public async Task<RolloutTransition?> TryTransitionAsync(Rollout updated, long revision, IReadOnlyList<AliasEdit> edits, Caller caller,
        CancellationToken cancellationToken, Func<Rollout, AliasEditOutcome, Rollout>? complete = null)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        if (await UpdateAsync(connection, transaction, updated, revision, cancellationToken, whileRunning: true) != 1)
        {
            return null; // disposing the transaction rolls it back
        }
        var aliases = await models.ApplyAliasEditsAsync(connection, transaction, updated.Model, edits, caller, cancellationToken);
        if (complete?.Invoke(updated, aliases) is { } completed && completed != updated)
        {
            await UpdateAsync(connection, transaction, completed, revision + 1, cancellationToken, whileRunning: false);
            updated = completed;
        }
        await transaction.CommitAsync(cancellationToken);
        return new RolloutTransition(updated, aliases);
    }

    private static async Task<int> UpdateAsync(SqliteConnection connection, SqliteTransaction transaction, Rollout updated, long revision,
        CancellationToken cancellationToken, bool whileRunning)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            UPDATE rollouts SET status = $status, revision = revision + 1, state_json = $json
            WHERE id = $id AND revision = $revision{(whileRunning ? " AND status = 'running'" : "")}
            """;
        command.Parameters.AddWithValue("$id", updated.Id);
        command.Parameters.AddWithValue("$status", updated.Status);
        command.Parameters.AddWithValue("$revision", revision);
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(updated, Json));
        return await command.ExecuteNonQueryAsync(cancellationToken);
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
