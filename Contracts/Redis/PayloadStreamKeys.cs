namespace MlPlatform.Contracts;

/// <summary>
/// The payload log's Redis stream: every online scorer replica adds records (field <see cref="RecordField"/>, a
/// <see cref="PayloadRecord"/> as JSON) with an approximate MAXLEN; the registry's leader reads it with its consumer group and appends
/// the records to its JSONL files.
/// </summary>
public static class PayloadStreamKeys
{
    /// <summary>The stream of payload records.</summary>
    public const string Stream = "mlplatform:payloads";

    /// <summary>The registry's consumer group on <see cref="Stream"/>.</summary>
    public const string ConsumerGroup = "registry";

    /// <summary>The field holding a record's JSON.</summary>
    public const string RecordField = "r";
}
