using MlPlatform.Inference.Protocol;
using MlPlatform.Inference.Tensors;

namespace MlPlatform.OnlineScorer.Serving;

/// <summary>
/// One infer call as every front end states it: the model, the version as the client wrote it (null: route by alias), its token, and the
/// API key that made it (as the gateway names it; null inside the platform), which on-demand loads are limited by.
/// </summary>
public sealed record InferCall(string Model, string? Version, CancellationToken CancellationToken, string? CallerKey = null)
{
    /// <summary>How the call chose its version; only <see cref="InferRoute.Routed"/> calls are judged by rollouts and the guard.</summary>
    public InferRoute Route { get; init; } = Version is null ? InferRoute.Routed : InferRoute.Pinned;
}

/// <summary>How an infer call reached its version.</summary>
public enum InferRoute
{
    /// <summary>By model name, through the aliases (production, or the canary's weighted share): judged by rollouts and the guard.</summary>
    Routed,

    /// <summary>By an explicit version (<c>/versions/{v}/infer</c>): served and counted, never judged, so nobody can aim at a canary to fail it.</summary>
    Pinned,

    /// <summary>A copy of another request (shadow traffic): served and counted, never judged.</summary>
    Shadow,
}

/// <summary>
/// What a front end (HTTP/JSON, gRPC) plugs into <see cref="InferenceService.InferAsync{TResponse}"/>: how it receives a request, decodes it
/// against the serving version's signature, and encodes the outputs. Throw <see cref="InferenceProtocolException"/> for a bad request.
/// </summary>
public interface IInferTransport<out TResponse>
{
    /// <summary>
    /// Receives what must be read before decoding (an HTTP body, within its size limit and the in-flight budget); nothing for a decoded
    /// request. Called once the model is leased, so that a request for an unknown model is refused before its body is read.
    /// </summary>
    ValueTask ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>The request, decoded and checked against <paramref name="signature"/>; the caller disposes it.</summary>
    InferRequest Decode(ModelSignature signature);

    /// <summary>The response for the outputs; called once per successful call, before the outputs are returned to the pool.</summary>
    TResponse Encode(InferReply reply);
}

/// <summary>The outputs of a successful call, valid only during <see cref="IInferTransport{TResponse}.Encode"/>.</summary>
/// <param name="Version">The version that served, as the protocol prints it.</param>
/// <param name="CacheStatus"><c>hit</c> or <c>miss</c> when the model's response cache is on; null otherwise.</param>
public readonly record struct InferReply(string Model, string Version, InferRequest Request, IReadOnlyList<TensorBuffer> Outputs, string? CacheStatus);

/// <summary>How an infer call ended: a response, or an error with the status the V2 protocol gives it (499 when the client went away).</summary>
public sealed class InferOutcome<TResponse>
{
    private InferOutcome(TResponse? response, int statusCode, string? error, int? retryAfterSeconds, InferenceFault fault, bool overloaded)
    {
        Overloaded = overloaded;
        Response = response;
        StatusCode = statusCode;
        Error = error;
        RetryAfterSeconds = retryAfterSeconds;
        Fault = fault;
    }

    /// <summary>Whether <see cref="Response"/> holds the encoded response.</summary>
    public bool Succeeded => Error is null;

    public TResponse? Response { get; }

    /// <summary>200, or the error's HTTP status (gRPC front ends map it to a status code).</summary>
    public int StatusCode { get; }

    public string? Error { get; }

    /// <summary>When the client should come back (on 503).</summary>
    public int? RetryAfterSeconds { get; }

    /// <summary>Whose fault the outcome was, as counted in metrics, fleet statistics and the gRPC status (<see cref="InferenceFault"/>).</summary>
    public InferenceFault Fault { get; }

    /// <summary>
    /// A <see cref="InferenceFault.Rejected"/> outcome that ran out of a resource (a full batch queue, the in-flight byte budget): gRPC answers
    /// RESOURCE_EXHAUSTED for it, UNAVAILABLE for the other rejections (a version being swapped or not loaded yet, the registry unreachable).
    /// </summary>
    public bool Overloaded { get; }

    public static InferOutcome<TResponse> Success(TResponse response) =>
        new(response, StatusCodes.Status200OK, null, null, InferenceFault.None, overloaded: false);

    /// <param name="fault">Whose fault it was; by default what <paramref name="statusCode"/> implies (<see cref="InferenceFaults.ForStatus"/>).</param>
    /// <param name="overloaded">See <see cref="Overloaded"/>.</param>
    public static InferOutcome<TResponse> Failure(int statusCode, string error, int? retryAfterSeconds = null, InferenceFault? fault = null,
        bool overloaded = false) =>
        new(default, statusCode, error, retryAfterSeconds, fault ?? InferenceFaults.ForStatus(statusCode), overloaded);
}
