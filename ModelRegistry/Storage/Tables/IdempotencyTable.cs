using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>The <c>idempotency_keys</c> rows of one unit of work: which version a registration's <c>Idempotency-Key</c> created.</summary>
public sealed class IdempotencyTable(RegistryTransaction work)
{
    /// <summary>The version and bytes an earlier use of the key created, if used for this model since <paramref name="since"/>.</summary>
    public async Task<(int Version, string Sha256)?> FindAsync(string model, string key, DateTimeOffset since, CancellationToken cancellationToken)
    {
        using var find = work.Command("SELECT version, sha256 FROM idempotency_keys WHERE model = $name AND key = $key AND created_at >= $since");
        find.Parameters.AddWithValue("$name", model);
        find.Parameters.AddWithValue("$key", key);
        find.Parameters.AddWithValue("$since", Format(since));
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt32(0), reader.GetString(1)) : null;
    }

    /// <summary>Remembers the key for the version it created; an expired earlier use of the key is replaced.</summary>
    public async Task RememberAsync(string model, string key, int version, string sha256, DateTimeOffset at, CancellationToken cancellationToken)
    {
        using var remember = work.Command("""
            INSERT INTO idempotency_keys (model, key, version, sha256, created_at) VALUES ($name, $key, $version, $sha, $at)
            ON CONFLICT (model, key) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, created_at = excluded.created_at
            """);
        remember.Parameters.AddWithValue("$name", model);
        remember.Parameters.AddWithValue("$key", key);
        remember.Parameters.AddWithValue("$version", version);
        remember.Parameters.AddWithValue("$sha", sha256);
        remember.Parameters.AddWithValue("$at", Format(at));
        await remember.ExecuteNonQueryAsync(cancellationToken);
    }
}
