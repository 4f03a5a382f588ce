using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MlPlatform.ModelRegistry.Storage;

namespace MlPlatform.ModelRegistry.Quality;

/// <summary>One ground-truth label for a logged request.</summary>
public sealed record FeedbackItem(string Id, JsonElement Label, DateTimeOffset? At);

/// <summary>
/// Ground truth and the ids of logged requests, in their own SQLite file (<c>quality.db</c> in the data folder) so that label volume never
/// weighs on the registry's database: <c>labels</c> (one per model and request id; a repeat replaces it) and <c>logged</c> (the ids the
/// drainer filed, to tell a label for a known request from one for an unknown id).
/// </summary>
public sealed class FeedbackStore(IOptions<StorageOptions> storage, TimeProvider time) : IHostedService
{
    private const int IdsPerQuery = 500;

    private string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(storage.Value.DataDir, "quality.db"),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(storage.Value.DataDir);
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS labels (
                model       TEXT NOT NULL,
                id          TEXT NOT NULL,
                label       TEXT NOT NULL,
                at          TEXT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (model, id)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS logged (
                model TEXT NOT NULL,
                id    TEXT NOT NULL,
                at    TEXT NOT NULL,
                PRIMARY KEY (model, id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS logged_by_time ON logged (at);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Remembers the ids of filed records (a repeat is ignored).</summary>
    public async Task IndexLoggedAsync(IReadOnlyList<(string Model, string Id, DateTimeOffset At)> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR IGNORE INTO logged (model, id, at) VALUES ($model, $id, $at)";
        var model = insert.Parameters.Add("$model", SqliteType.Text);
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Text);
        foreach (var record in records)
        {
            model.Value = record.Model;
            id.Value = record.Id;
            at.Value = Time(record.At);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Stores every label in one transaction (all or nothing); counts the replaced ones and those naming no logged request.</summary>
    public async Task<FeedbackResult> PutAsync(string model, IReadOnlyList<FeedbackItem> items, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = "SELECT (SELECT COUNT(*) FROM labels WHERE model = $model AND id = $id), (SELECT COUNT(*) FROM logged WHERE model = $model AND id = $id)";
        using var upsert = connection.CreateCommand();
        upsert.Transaction = transaction;
        upsert.CommandText = """
            INSERT INTO labels (model, id, label, at, received_at) VALUES ($model, $id, $label, $at, $received)
            ON CONFLICT (model, id) DO UPDATE SET label = excluded.label, at = excluded.at, received_at = excluded.received_at
            """;
        var received = Time(time.GetUtcNow());
        int replaced = 0, unknown = 0;
        foreach (var item in items)
        {
            exists.Parameters.Clear();
            exists.Parameters.AddWithValue("$model", model);
            exists.Parameters.AddWithValue("$id", item.Id);
            await using (var reader = await exists.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                replaced += reader.GetInt64(0) > 0 ? 1 : 0;
                unknown += reader.GetInt64(1) > 0 ? 0 : 1;
            }
            upsert.Parameters.Clear();
            upsert.Parameters.AddWithValue("$model", model);
            upsert.Parameters.AddWithValue("$id", item.Id);
            upsert.Parameters.AddWithValue("$label", item.Label.GetRawText());
            upsert.Parameters.AddWithValue("$at", item.At is { } at ? Time(at) : DBNull.Value);
            upsert.Parameters.AddWithValue("$received", received);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new FeedbackResult(items.Count, replaced, unknown);
    }

    /// <summary>The labels of <paramref name="ids"/> that have one, by id.</summary>
    public async Task<Dictionary<string, JsonElement>> GetLabelsAsync(string model, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return labels;
        }
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var chunk in ids.Chunk(IdsPerQuery))
        {
            using var command = connection.CreateCommand();
            var names = new string[chunk.Length];
            command.Parameters.AddWithValue("$model", model);
            for (var i = 0; i < chunk.Length; i++)
            {
                names[i] = "$i" + i.ToString(CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue(names[i], chunk[i]);
            }
            command.CommandText = $"SELECT id, label FROM labels WHERE model = $model AND id IN ({string.Join(',', names)})";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                using var label = JsonDocument.Parse(reader.GetString(1));
                labels[reader.GetString(0)] = label.RootElement.Clone();
            }
        }
        return labels;
    }

    /// <summary>Forgets logged ids older than <paramref name="cutoff"/> (their records are past the payload log's retention).</summary>
    public async Task ForgetLoggedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM logged WHERE at < $cutoff";
        command.Parameters.AddWithValue("$cutoff", Time(cutoff));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }
}
