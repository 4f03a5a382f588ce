using System.Text.Json;

namespace MlPlatform.Contracts;

/// <summary>
/// One line of the payload log, as the online scorer writes it to <see cref="PayloadStreamKeys.Stream"/> and the registry keeps it in
/// its JSONL files and serves it (<c>GET /v1/models/{name}/versions/{v}/payloads</c>). Serialised with the web defaults (camelCase).
/// </summary>
/// <param name="Id">The V2 request id: the client's, or the one the scorer generated and returned.</param>
/// <param name="Route">How the request reached the version: <see cref="PayloadRoutes"/>.</param>
/// <param name="At">When the scorer answered (UTC).</param>
/// <param name="LatencyMs">Server latency: from the end of the body read to the encoded response.</param>
/// <param name="Outcome">Whose fault a failure was: <see cref="PayloadOutcomes"/>.</param>
/// <param name="Status">The HTTP status the V2 protocol gives the outcome (200 on success).</param>
/// <param name="Error">The error message of a failed request.</param>
/// <param name="Inputs">The decoded inputs as V2 JSON tensors; null when decoding failed or the record was truncated.</param>
/// <param name="Outputs">The outputs as V2 JSON tensors; null for a failed or truncated record.</param>
/// <param name="Truncated">The tensors were left out because the record exceeded the model's <c>maxBytesPerRecord</c>.</param>
public sealed record PayloadRecord(
    string Id,
    string Model,
    int Version,
    string Route,
    DateTimeOffset At,
    double LatencyMs,
    string Outcome,
    int Status,
    string? Error,
    IReadOnlyList<PayloadTensor>? Inputs,
    IReadOnlyList<PayloadTensor>? Outputs,
    bool Truncated);

/// <summary>A tensor as the V2 JSON protocol writes it: flat row-major <see cref="Data"/>.</summary>
public sealed record PayloadTensor(string Name, string Datatype, long[] Shape, JsonElement Data);

/// <summary>The values of <see cref="PayloadRecord.Route"/>.</summary>
public static class PayloadRoutes
{
    /// <summary>Routed by model name to the <c>production</c> alias.</summary>
    public const string Production = "production";

    /// <summary>Routed by model name to the <c>canary</c> alias (its weighted share).</summary>
    public const string Canary = "canary";

    /// <summary>Asked for by version number.</summary>
    public const string Pinned = "pinned";

    /// <summary>A copy of a production request sent to the <c>shadow</c> alias after the client was answered.</summary>
    public const string Shadow = "shadow";
}

/// <summary>The values of <see cref="PayloadRecord.Outcome"/>: whose fault a request's end was.</summary>
public static class PayloadOutcomes
{
    public const string Success = "success";

    /// <summary>The request was wrong (4xx): the client's fault.</summary>
    public const string ClientError = "client_error";

    /// <summary>Refused for load (a full queue, 503 while loading).</summary>
    public const string Rejected = "rejected";

    /// <summary>The version or the scorer failed (5xx).</summary>
    public const string ServerError = "server_error";
}
