namespace MlPlatform.Contracts;

/// <summary>
/// The batch scorer's Redis keys that another service reads: the registry's alert evaluator watches the chunk stream's depth and the
/// dead letters. Every batch key starts with <see cref="Prefix"/>; the batch scorer's own keys are built from it in its <c>BatchKeys</c>.
/// </summary>
public static class BatchStreamKeys
{
    /// <summary>Prefix of every batch scorer key.</summary>
    public const string Prefix = "mlplatform:batch:";

    /// <summary>The stream of chunks waiting to be scored (the batch scorer's consumer group reads it).</summary>
    public const string Chunks = Prefix + "chunks";

    /// <summary>The stream of chunks delivered too often without completing.</summary>
    public const string DeadLetters = Chunks + ":dead";
}
