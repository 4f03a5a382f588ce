using MlPlatform.ModelRegistry.Model;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>Reads and writes model metadata in the registry database.</summary>
public sealed class ModelStore(RegistryDatabase database)
{
    public async Task<PaginatedItems<ModelSummary>> ListModelsAsync(int pageIndex, int pageSize, string? namePrefix, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM models WHERE name LIKE $prefix ESCAPE '\\'";
        count.Parameters.AddWithValue("$prefix", EscapeLike(namePrefix ?? "") + "%");
        var total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken));

        using var query = connection.CreateCommand();
        query.CommandText = """
            SELECT name, created_at FROM models
            WHERE name LIKE $prefix ESCAPE '\'
            ORDER BY name LIMIT $limit OFFSET $offset
            """;
        query.Parameters.AddWithValue("$prefix", EscapeLike(namePrefix ?? "") + "%");
        query.Parameters.AddWithValue("$limit", pageSize);
        query.Parameters.AddWithValue("$offset", (long)pageIndex * pageSize);
        var items = new List<ModelSummary>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new ModelSummary(reader.GetString(0), DateTimeOffset.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture)));
        }
        return new PaginatedItems<ModelSummary>(pageIndex, pageSize, total, items);
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
