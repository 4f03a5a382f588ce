using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>The <c>version_pins</c> rows of one unit of work.</summary>
public sealed class PinTable(RegistryTransaction work)
{
    /// <summary>The model's pins, by version.</summary>
    public async Task<List<VersionPin>> ReadAsync(string model, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT version, pinned_at, pinned_by FROM version_pins WHERE model = $name ORDER BY version");
        command.Parameters.AddWithValue("$name", model);
        var pins = new List<VersionPin>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pins.Add(new VersionPin(reader.GetInt32(0), ParseTime(reader.GetString(1)), reader.GetString(2)));
        }
        return pins;
    }

    /// <summary>Pins <paramref name="version"/>; false when it already was (the first pin's time and caller stay).</summary>
    public async Task<bool> AddAsync(string model, int version, DateTimeOffset at, string by, CancellationToken cancellationToken)
    {
        using var insert = work.Command("""
            INSERT INTO version_pins (model, version, pinned_at, pinned_by) VALUES ($name, $version, $at, $by)
            ON CONFLICT (model, version) DO NOTHING
            """);
        insert.Parameters.AddWithValue("$name", model);
        insert.Parameters.AddWithValue("$version", version);
        insert.Parameters.AddWithValue("$at", Format(at));
        insert.Parameters.AddWithValue("$by", by);
        return await insert.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>Releases the pin of <paramref name="version"/>, or every pin of the model when null; the versions released.</summary>
    public async Task<List<int>> RemoveAsync(string model, int? version, CancellationToken cancellationToken)
    {
        using var delete = work.Command(
            "DELETE FROM version_pins WHERE model = $name AND ($version IS NULL OR version = $version) RETURNING version");
        delete.Parameters.AddWithValue("$name", model);
        delete.Parameters.AddWithValue("$version", OrNull(version));
        var released = new List<int>();
        await using var reader = await delete.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            released.Add(reader.GetInt32(0));
        }
        released.Sort();
        return released;
    }
}
