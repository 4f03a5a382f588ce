using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>Opens connections to the registry's SQLite file and creates or migrates its schema at start-up.</summary>
public sealed class RegistryDatabase(IOptions<StorageOptions> options, ILogger<RegistryDatabase> logger) : IHostedService
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(options.Value.DataDir, "registry.db"),
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Schema migrations, applied in order; the index of each is its version.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE models (
            name        TEXT PRIMARY KEY,
            created_at  TEXT NOT NULL
        );
        """,
    ];

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Value.DataDir);
        await using var connection = await OpenAsync(cancellationToken);
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        using var versionCommand = connection.CreateCommand();
        versionCommand.CommandText = "PRAGMA user_version;";
        var current = Convert.ToInt32(await versionCommand.ExecuteScalarAsync(cancellationToken));
        for (var i = current; i < Migrations.Length; i++)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            await migrate.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Registry schema migrated to version {Version}", i + 1);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
