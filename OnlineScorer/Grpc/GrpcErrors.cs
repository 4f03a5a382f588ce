using Grpc.Core;
using MlPlatform.GrpcContracts;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

/// <summary>Translates the scorer's failures into gRPC status codes, with the message REST sends in its <c>{"error": ...}</c>.</summary>
internal static class GrpcErrors
{
    public static RpcException From(InferFailure failure, ServerCallContext context) => failure.Kind switch
    {
        InferFailureKind.Cancelled when context.Deadline <= DateTime.UtcNow =>
            new RpcException(new Status(StatusCode.DeadlineExceeded, "The deadline passed before the inference finished.")),
        InferFailureKind.Cancelled => new RpcException(new Status(StatusCode.Cancelled, failure.Message)),
        InferFailureKind.QueueFull or InferFailureKind.TooLarge => new RpcException(new Status(StatusCode.ResourceExhausted, failure.Message)),
        _ => FromHttpStatus(failure.HttpStatus, failure.Message),
    };

    /// <summary>The gRPC code for a REST error of the scorer: as <see cref="GrpcStatusCodes"/>, except that an unknown model or version is NOT_FOUND.</summary>
    public static RpcException FromHttpStatus(int? status, string message) =>
        new(new Status(status == StatusCodes.Status404NotFound ? StatusCode.NotFound : GrpcStatusCodes.FromHttpStatus(status), message));
}
