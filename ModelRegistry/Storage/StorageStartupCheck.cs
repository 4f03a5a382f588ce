using Microsoft.Data.Sqlite;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>
/// Refuses to start the registry on a database that is new (missing, or without a schema) while artifact blobs exist: they belong to a
/// database that was lost or moved, and starting would leave every one of them unregistered. Runs before SQLite creates the file.
/// </summary>
public static class StorageStartupCheck
{
    /// <exception cref="StorageStartupException">The database is new, blobs exist and <see cref="StorageOptions.AdoptOrphanBlobs"/> is off.</exception>
    /// <returns>Whether the database is new (no schema yet).</returns>
    public static bool EnsureDatabaseMatchesBlobs(StorageOptions options, ILogger logger)
    {
        if (!IsNewDatabase(options.DatabasePath))
        {
            return false;
        }
        var blobs = CountBlobs(Path.Combine(options.BlobsDir, "sha256"));
        if (blobs == 0)
        {
            return true;
        }
        if (options.AdoptOrphanBlobs)
        {
            logger.LogWarning(
                "Starting with a new, empty registry database although {Blobs} artifact blobs exist (Storage:AdoptOrphanBlobs); they are moved to quarantine and kept for {Days} days",
                blobs, options.QuarantineRetentionDays);
            return true;
        }
        throw new StorageStartupException(
            $"The registry database '{options.DatabasePath}' is missing or empty, but {blobs} artifact blob(s) exist under '{options.BlobsDir}': " +
            "starting would leave every registered model without its record. Nothing was changed. Either restore the database: stop the registry, " +
            $"copy the backup of registry.db (with registry.db-wal if you have one) into '{options.DataDir}' and start again; or start over with an " +
            "empty registry, keeping the blobs in quarantine for Storage:QuarantineRetentionDays days: start once with Storage__AdoptOrphanBlobs=true " +
            "(./platform start Registry:Storage:AdoptOrphanBlobs=true).");
    }

    private static bool IsNewDatabase(string path)
    {
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            return true;
        }
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt64(command.ExecuteScalar()) == 0;
    }

    private static int CountBlobs(string hashRoot) =>
        Directory.Exists(hashRoot) ? Directory.EnumerateFiles(hashRoot, "*", SearchOption.AllDirectories).Count() : 0;
}

/// <summary>The registry's storage is in a state it must not start on; the message says why and what to do.</summary>
public sealed class StorageStartupException(string message) : Exception(message);
