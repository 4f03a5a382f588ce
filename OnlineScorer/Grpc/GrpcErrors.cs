using Grpc.Core;
using MlPlatform.GrpcContracts;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

/// <summary>Translates the scorer's failures into gRPC status codes, with the message REST sends in its <c>{"error": ...}</c>.</summary>
internal static class GrpcErrors
{
    /// <summary>
    /// The status for a failed call, by its outcome class (<see cref="InferenceFault"/>), so both ports say the same about whose fault it was:
    /// a client error is NOT_FOUND (unknown model or version) or INVALID_ARGUMENT, a rejection RESOURCE_EXHAUSTED (full queue, byte budget)
    /// or UNAVAILABLE (retry later), a server error INTERNAL.
    /// </summary>
    public static RpcException From<TResponse>(InferOutcome<TResponse> outcome, ServerCallContext context)
    {
        var message = outcome.Error!;
        var code = outcome switch
        {
            { StatusCode: 499 } when context.Deadline <= DateTime.UtcNow => StatusCode.DeadlineExceeded,
            { StatusCode: 499 } => StatusCode.Cancelled,
            // Limits before classes: a body too large, a key's on-demand load share, an archived version say so in their own codes.
            { StatusCode: StatusCodes.Status413PayloadTooLarge or StatusCodes.Status429TooManyRequests } => StatusCode.ResourceExhausted,
            { StatusCode: StatusCodes.Status409Conflict } => StatusCode.FailedPrecondition,
            { Fault: InferenceFault.Client, StatusCode: StatusCodes.Status404NotFound } => StatusCode.NotFound,
            { Fault: InferenceFault.Client } => StatusCode.InvalidArgument,
            { Fault: InferenceFault.Rejected, Overloaded: true } => StatusCode.ResourceExhausted,
            { Fault: InferenceFault.Rejected } => StatusCode.Unavailable,
            _ => StatusCode.Internal,
        };
        if (code == StatusCode.DeadlineExceeded)
        {
            message = "The deadline passed before the inference finished.";
        }
        return new RpcException(new Status(code, message));
    }

    /// <summary>The gRPC code for a REST error of the scorer: as <see cref="GrpcStatusCodes"/>, except that an unknown model or version is NOT_FOUND.</summary>
    public static RpcException FromHttpStatus(int? status, string message) =>
        new(new Status(status == StatusCodes.Status404NotFound ? StatusCode.NotFound : GrpcStatusCodes.FromHttpStatus(status), message));
}
