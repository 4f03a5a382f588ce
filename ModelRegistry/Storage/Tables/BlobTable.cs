using System.Text.Json;
using MlPlatform.ModelRegistry.Model;
using static MlPlatform.ModelRegistry.Storage.Tables.SqlValues;

namespace MlPlatform.ModelRegistry.Storage.Tables;

/// <summary>The <c>blobs</c> rows of one unit of work: size and signature of each content-addressed artifact that passed inspection.</summary>
public sealed class BlobTable(RegistryTransaction work)
{
    public async Task<ModelSignature?> FindSignatureAsync(string sha256, CancellationToken cancellationToken)
    {
        using var command = work.Command("SELECT signature_json FROM blobs WHERE sha256 = $sha");
        command.Parameters.AddWithValue("$sha", sha256);
        return await command.ExecuteScalarAsync(cancellationToken) is string json
            ? JsonSerializer.Deserialize<ModelSignature>(json, Json)
            : null;
    }

    /// <summary>Records a blob; recording the same bytes again keeps the first record.</summary>
    public async Task AddAsync(string sha256, long sizeBytes, ModelSignature signature, CancellationToken cancellationToken)
    {
        using var command = work.Command("""
            INSERT INTO blobs (sha256, size_bytes, signature_json, created_at) VALUES ($sha, $size, $signature, $at)
            ON CONFLICT (sha256) DO NOTHING
            """);
        command.Parameters.AddWithValue("$sha", sha256);
        command.Parameters.AddWithValue("$size", sizeBytes);
        command.Parameters.AddWithValue("$signature", JsonSerializer.Serialize(signature, Json));
        command.Parameters.AddWithValue("$at", Format(work.Clock.GetUtcNow()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
