using Grpc.Core;
using MlPlatform.GrpcContracts;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

/// <summary>Translates the scorer's failures into gRPC status codes, with the message REST sends in its <c>{"error": ...}</c>.</summary>
internal static class GrpcErrors
{
    public static RpcException From<TResponse>(InferOutcome<TResponse> outcome, ServerCallContext context) => outcome.StatusCode switch
    {
        499 when context.Deadline <= DateTime.UtcNow =>
            new RpcException(new Status(StatusCode.DeadlineExceeded, "The deadline passed before the inference finished.")),
        499 => new RpcException(new Status(StatusCode.Cancelled, outcome.Error!)),
        StatusCodes.Status503ServiceUnavailable when outcome.Overloaded => new RpcException(new Status(StatusCode.ResourceExhausted, outcome.Error!)),
        _ => FromHttpStatus(outcome.StatusCode, outcome.Error!),
    };

    /// <summary>The gRPC code for a REST error of the scorer: as <see cref="GrpcStatusCodes"/>, except that an unknown model or version is NOT_FOUND.</summary>
    public static RpcException FromHttpStatus(int? status, string message) =>
        new(new Status(status == StatusCodes.Status404NotFound ? StatusCode.NotFound : GrpcStatusCodes.FromHttpStatus(status), message));
}
