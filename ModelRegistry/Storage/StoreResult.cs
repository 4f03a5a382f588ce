namespace MlPlatform.ModelRegistry.Storage;

public enum StoreStatus
{
    Ok,
    NotFound,
    Conflict,
}

/// <summary>The outcome of a store operation: a value, or why there is none.</summary>
public readonly record struct StoreResult<T>(StoreStatus Status, T? Value, string? Error)
{
    public static StoreResult<T> Ok(T value) => new(StoreStatus.Ok, value, null);
    public static StoreResult<T> NotFound(string error) => new(StoreStatus.NotFound, default, error);
    public static StoreResult<T> Conflict(string error) => new(StoreStatus.Conflict, default, error);
}
