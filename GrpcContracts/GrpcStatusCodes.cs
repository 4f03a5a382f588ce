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

    /// <summary>
    /// A <c>grpc-message</c> value as the gRPC HTTP/2 protocol encodes it: printable ASCII other than <c>%</c> as it is, everything else
    /// as <c>%XX</c> of its UTF-8 bytes. (<c>Uri.EscapeDataString</c> also encodes spaces, ';' and the like, which a client that decodes
    /// only what the protocol says, such as grpc-js, shows as "%3B".)
    /// </summary>
    public static string EncodeMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var builder = new System.Text.StringBuilder(message.Length);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < message.Length; i++)
        {
            var c = message[i];
            if (c is >= ' ' and <= '~' and not '%')
            {
                builder.Append(c);
                continue;
            }
            // A surrogate pair is one code point; an unpaired surrogate becomes U+FFFD (what UTF-8 can carry).
            var length = char.IsSurrogatePair(message, i)
                ? System.Text.Encoding.UTF8.GetBytes(message.AsSpan(i++, 2), bytes)
                : System.Text.Encoding.UTF8.GetBytes(char.IsSurrogate(c) ? "\uFFFD".AsSpan() : message.AsSpan(i, 1), bytes);
            foreach (var b in bytes[..length])
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

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
