namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>A model's serving settings in one unit of work, stored as JSON in <c>models.serving_json</c> (null: the defaults).</summary>
public sealed class ServingTable(RegistryTransaction work)
{
    /// <summary>Whether the model exists, and its settings JSON (null when never set).</summary>
    public async Task<(bool Exists, string? Json)> ReadAsync(string name, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT 1, serving_json FROM models WHERE name = $name");
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (false, null);
        }
        return (true, reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    public async Task WriteAsync(string name, string json, CancellationToken cancellationToken)
    {
        using var write = work.Command("UPDATE models SET serving_json = $json WHERE name = $name");
        write.Parameters.AddWithValue("$name", name);
        write.Parameters.AddWithValue("$json", json);
        await write.ExecuteNonQueryAsync(cancellationToken);
    }
}
