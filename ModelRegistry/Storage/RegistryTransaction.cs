using Microsoft.Data.Sqlite;
using MlPlatform.ModelRegistry.Rollouts;
using MlPlatform.ModelRegistry.Storage.Tables;

namespace MlPlatform.ModelRegistry.Storage;

/// <summary>
/// One unit of work on the registry database: owns the connection and (for writes) the transaction, and exposes one table gateway per
/// aggregate bound to both. Disposing without <see cref="CommitAsync"/> rolls every change back.
/// </summary>
public sealed class RegistryTransaction : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction? _transaction;

    internal RegistryTransaction(SqliteConnection connection, SqliteTransaction? transaction, TimeProvider clock)
    {
        _connection = connection;
        _transaction = transaction;
        Clock = clock;
        Models = new ModelTable(this);
        Blobs = new BlobTable(this);
        Aliases = new AliasTable(this);
        Serving = new ServingTable(this);
        IdempotencyKeys = new IdempotencyTable(this);
        Rollouts = new RolloutTable(this);
    }

    /// <summary>Models and their versions.</summary>
    public ModelTable Models { get; }

    /// <summary>What inspection recorded about each content-addressed blob (the bytes live in <see cref="BlobStore"/>).</summary>
    public BlobTable Blobs { get; }

    /// <summary>Aliases and their append-only history.</summary>
    public AliasTable Aliases { get; }

    public ServingTable Serving { get; }

    public IdempotencyTable IdempotencyKeys { get; }

    public RolloutTable Rollouts { get; }

    public TimeProvider Clock { get; }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is null)
        {
            throw new InvalidOperationException("A read has no transaction to commit; begin the unit of work with BeginAsync.");
        }
        await _transaction.CommitAsync(cancellationToken);
    }

    /// <summary>A command on this unit of work's connection, enlisted in its transaction.</summary>
    internal SqliteCommand Command(string sql)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync();
        }
        await _connection.DisposeAsync();
    }
}
