using Grpc.Core;

namespace MlPlatform.GrpcContracts;

/// <summary>
/// The gRPC status code for an HTTP status the platform answers with, so a rejection means the same on both ports
/// (the gateway's own rejections, the scorer's V2 errors).
/// </summary>
public static class GrpcStatusCodes
{
    /// <summary>The content type every gRPC request carries (<c>application/grpc</c>, optionally <c>+proto</c> and the like).</summary>
    public const string ContentType = "application/grpc";

    /// <summary>Whether a request with this content type is a gRPC call.</summary>
    public static bool IsGrpcContentType(string? contentType) =>
        contentType is not null && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase);

    public static StatusCode FromHttpStatus(int? status) => status switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 or 405 => StatusCode.Unimplemented,
        409 => StatusCode.FailedPrecondition,
        413 or 429 => StatusCode.ResourceExhausted,
        499 => StatusCode.Cancelled,
        502 or 503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };
}
