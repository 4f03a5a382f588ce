using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MlPlatform.ServiceDefaults.Storage;

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
        """
        ALTER TABLE models ADD COLUMN serving_json TEXT NULL;
        CREATE TABLE blobs (
            sha256          TEXT PRIMARY KEY,
            size_bytes      INTEGER NOT NULL,
            signature_json  TEXT NOT NULL,
            created_at      TEXT NOT NULL
        );
        CREATE TABLE versions (
            model        TEXT NOT NULL REFERENCES models(name),
            version      INTEGER NOT NULL,
            sha256       TEXT NOT NULL REFERENCES blobs(sha256),
            description  TEXT NULL,
            tags_json    TEXT NOT NULL DEFAULT '{}',
            created_at   TEXT NOT NULL,
            archived_at  TEXT NULL,
            PRIMARY KEY (model, version)
        );
        CREATE TABLE aliases (
            model       TEXT NOT NULL REFERENCES models(name),
            alias       TEXT NOT NULL,
            version     INTEGER NOT NULL,
            weight      INTEGER NULL,
            updated_at  TEXT NOT NULL,
            PRIMARY KEY (model, alias),
            FOREIGN KEY (model, version) REFERENCES versions(model, version)
        );
        CREATE TABLE alias_history (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            model         TEXT NOT NULL REFERENCES models(name),
            alias         TEXT NOT NULL,
            from_version  INTEGER NULL,
            to_version    INTEGER NULL,
            weight        INTEGER NULL,
            at            TEXT NOT NULL,
            actor         TEXT NOT NULL,
            role          TEXT NULL,
            reason        TEXT NOT NULL,
            kind          TEXT NOT NULL
        );
        CREATE INDEX alias_history_by_alias ON alias_history (model, alias, id);
        CREATE TABLE idempotency_keys (
            model       TEXT NOT NULL REFERENCES models(name),
            key         TEXT NOT NULL,
            version     INTEGER NOT NULL,
            sha256      TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (model, key)
        );
        """,
        """
        CREATE TABLE rollouts (
            id          TEXT PRIMARY KEY,
            model       TEXT NOT NULL REFERENCES models(name),
            kind        TEXT NOT NULL,
            status      TEXT NOT NULL,
            revision    INTEGER NOT NULL,
            created_at  TEXT NOT NULL,
            state_json  TEXT NOT NULL
        );
        CREATE INDEX rollouts_by_model ON rollouts (model, created_at);
        CREATE INDEX rollouts_by_status ON rollouts (status);
        CREATE UNIQUE INDEX one_running_rollout_per_model ON rollouts (model) WHERE status = 'running' AND kind = 'rollout';
        CREATE TABLE alerts (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            rule        TEXT NOT NULL,
            subject     TEXT NOT NULL,
            status      TEXT NOT NULL,
            fired_at    TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            state_json  TEXT NOT NULL
        );
        CREATE INDEX alerts_by_status ON alerts (status, id);
        CREATE INDEX alerts_by_rule ON alerts (rule, subject, status);
        """,
        // Who registered a version (the gateway's key id); older rows keep NULL.
        """
        ALTER TABLE versions ADD COLUMN created_by TEXT NULL;
        """,
        // Versions every online scorer keeps loaded (Triton's repository load/unload).
        """
        CREATE TABLE version_pins (
            model      TEXT NOT NULL REFERENCES models(name),
            version    INTEGER NOT NULL,
            pinned_at  TEXT NOT NULL,
            pinned_by  TEXT NOT NULL,
            PRIMARY KEY (model, version),
            FOREIGN KEY (model, version) REFERENCES versions(model, version)
        );
        """,
        // A forced promotion's signature differences (JSON array of strings); other rows keep NULL.
        """
        ALTER TABLE alias_history ADD COLUMN differences_json TEXT NULL;
        """,
        // Who archived a version and why (the archive request's reason); older rows and reasonless requests keep NULL.
        """
        ALTER TABLE versions ADD COLUMN archived_by TEXT NULL;
        ALTER TABLE versions ADD COLUMN archive_reason TEXT NULL;
        """,
    ];

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragma = connection.CreateCommand();
        // synchronous is per connection: every connection that writes must make its commits durable, not only the first one.
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA synchronous = FULL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        DurableFiles.CreateDirectory(options.Value.DataDir);
        var isNew = StorageStartupCheck.EnsureDatabaseMatchesBlobs(options.Value, logger);
        await using var connection = await OpenAsync(cancellationToken);
        using (var wal = connection.CreateCommand())
        {
            // The journal mode is stored in the file; setting it on every start is harmless and covers a new file.
            wal.CommandText = "PRAGMA journal_mode = WAL;";
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
        if (isNew)
        {
            // The new database file's directory entry (and its WAL's) must survive a crash like the rows in it.
            DurableFiles.FsyncDirectory(options.Value.DataDir);
        }
    }

    /// <summary>The hashes of every blob that passed inspection.</summary>
    public async Task<HashSet<string>> ReadKnownBlobsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sha256 FROM blobs";
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            known.Add(reader.GetString(0));
        }
        return known;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
