using System.Globalization;
using System.Text.Json;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Alerts;

/// <summary>Alerts in the registry database, so firing alerts are not fired again after a restart and the list survives it.</summary>
public sealed class AlertStore(RegistryDatabase database)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<Alert> InsertAsync(Alert alert, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO alerts (rule, subject, status, fired_at, updated_at, state_json) VALUES ($rule, $subject, $status, $fired, $at, $json);
            SELECT last_insert_rowid();
            """;
        command.Parameters.AddWithValue("$rule", alert.Name);
        command.Parameters.AddWithValue("$subject", alert.Subject);
        command.Parameters.AddWithValue("$status", alert.Status);
        command.Parameters.AddWithValue("$fired", alert.FiredAt.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$at", alert.At.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(alert, Json));
        var id = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        var stored = alert with { Id = id };
        await UpdateAsync(stored, cancellationToken);
        return stored;
    }

    public async Task UpdateAsync(Alert alert, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE alerts SET status = $status, updated_at = $at, state_json = $json WHERE id = $id";
        command.Parameters.AddWithValue("$id", alert.Id);
        command.Parameters.AddWithValue("$status", alert.Status);
        command.Parameters.AddWithValue("$at", alert.At.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$json", JsonSerializer.Serialize(alert, Json));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Firing alerts of a rule, by subject.</summary>
    public async Task<Dictionary<string, Alert>> FiringAsync(string rule, CancellationToken cancellationToken)
    {
        var firing = new Dictionary<string, Alert>(StringComparer.Ordinal);
        foreach (var alert in await QueryAsync("WHERE rule = $rule AND status = 'firing'", 10_000, cancellationToken, ("$rule", rule)))
        {
            firing[alert.Subject] = alert;
        }
        return firing;
    }

    /// <summary>The most recent alerts first (by when they fired), optionally only those with <paramref name="status"/>.</summary>
    public Task<List<Alert>> ListAsync(string? status, int limit, CancellationToken cancellationToken) => status is null
        ? QueryAsync("", limit, cancellationToken)
        : QueryAsync("WHERE status = $status", limit, cancellationToken, ("$status", status));

    private async Task<List<Alert>> QueryAsync(string where, int limit, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT state_json, subject FROM alerts {where} ORDER BY id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var alerts = new List<Alert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add(JsonSerializer.Deserialize<Alert>(reader.GetString(0), Json)! with { Subject = reader.GetString(1) });
        }
        return alerts;
    }
}
