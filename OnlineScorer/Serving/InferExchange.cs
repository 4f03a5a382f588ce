using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// What one front end (REST, gRPC) contributes to an inference: receiving the request, decoding it against the serving version's
/// signature (through the shared V2 checks) and encoding the outputs. Everything between (routing, leasing, cache, batching, metrics,
/// fleet statistics, outcome classes) is <see cref="InferenceService"/>'s, once for every front end.
/// </summary>
public interface IInferExchange<TResponse>
{
    /// <summary>Receives what must arrive before a version is leased (the REST body); throws <see cref="InferenceProtocolException"/> to refuse it.</summary>
    ValueTask ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Decodes the request, checked against <paramref name="signature"/> with the V2 checks; the caller disposes it.</summary>
    InferRequest Decode(ModelSignature signature, InferRequestLimits limits);

    /// <summary>Encodes the outputs (still owned by the caller) as this front end's response.</summary>
    TResponse Encode(string model, string version, InferRequest request, TensorBuffer[] outputs);
}

/// <summary>Why an inference failed, as the front ends translate it (HTTP status, gRPC status code).</summary>
public enum InferFailureKind
{
    /// <summary>The request is malformed or does not fit the model (HTTP 400, gRPC INVALID_ARGUMENT).</summary>
    BadRequest,
    /// <summary>No such model or version (404, NOT_FOUND).</summary>
    NotFound,
    /// <summary>The request is larger than a limit (413, RESOURCE_EXHAUSTED).</summary>
    TooLarge,
    /// <summary>The version's batch queue is full (503 with Retry-After, RESOURCE_EXHAUSTED).</summary>
    QueueFull,
    /// <summary>The version cannot serve now: loading, swapping, registry down (503, UNAVAILABLE).</summary>
    Unavailable,
    /// <summary>The client went away or its deadline passed (499, CANCELLED or DEADLINE_EXCEEDED).</summary>
    Cancelled,
    /// <summary>A fault of the scorer (500, INTERNAL).</summary>
    Internal,
}

/// <summary>A failed inference: its class, the HTTP status REST answers with, the message (the same on every front end), and a retry hint.</summary>
public sealed record InferFailure(InferFailureKind Kind, int HttpStatus, string Message, int? RetryAfterSeconds = null);

/// <summary>The result of <see cref="InferenceService.InferAsync{TResponse}"/>: a response, or a failure.</summary>
public readonly record struct InferOutcome<TResponse>(TResponse? Response, InferFailure? Failure, string? CacheStatus)
{
    public static InferOutcome<TResponse> Success(TResponse response, string? cacheStatus) => new(response, null, cacheStatus);

    public static InferOutcome<TResponse> Failed(InferFailure failure) => new(default, failure, null);
}
