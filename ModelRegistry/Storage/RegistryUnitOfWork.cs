namespace MlPlatform.ModelRegistry.Storage;

/// <summary>
/// Opens the registry database for one piece of work. Every store reads and writes through the <see cref="RegistryTransaction"/> it
/// hands out, so a write that spans aggregates (a rollout's state with its alias moves and their history) commits or rolls back whole.
/// </summary>
public sealed class RegistryUnitOfWork(RegistryDatabase database, TimeProvider clock)
{
    /// <summary>
    /// Begins a write: <c>BEGIN IMMEDIATE</c> takes SQLite's write lock up front, so writers are serialised by SQLite itself (across
    /// replicas too) and a read-then-write inside the transaction sees no other writer in between.
    /// </summary>
    public async Task<RegistryTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken);
        return new RegistryTransaction(connection, connection.BeginTransaction(deferred: false), clock);
    }

    /// <summary>
    /// Opens the database without a transaction, for reads (each statement sees the last committed state) and single-statement writes
    /// (SQLite commits each on its own).
    /// </summary>
    public async Task<RegistryTransaction> OpenAsync(CancellationToken cancellationToken) =>
        new(await database.OpenAsync(cancellationToken), null, clock);
}
