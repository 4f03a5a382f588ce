using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using MlPlatform.GrpcContracts;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace MlPlatform.Gateway.Errors;

/// <summary>
/// The one error shape of the platform, for errors the gateway raises itself: the Open Inference Protocol's <c>{"error": "..."}</c>
/// under <c>/v2</c>, RFC 7807 problem details everywhere else.
/// </summary>
public static class GatewayErrors
{
    public const string V2Prefix = "/v2";

    /// <summary>Writes an error response unless the response has already started (then there is nothing left to say).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        if (GrpcStatusCodes.IsGrpcContentType(context.Request.ContentType))
        {
            WriteGrpcError(context, GrpcStatusCodes.FromHttpStatus(status), detail);
            return;
        }
        context.Response.StatusCode = status;
        if (context.Request.Path.StartsWithSegments(V2Prefix))
        {
            await context.Response.WriteAsJsonAsync(new V2Error(detail), GatewayErrorsJsonContext.Default.V2Error, contentType: "application/json");
            return;
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>
    /// Answers a gRPC call with a trailers-only error: HTTP 200 and the status in the headers, no body. A gRPC client reads any other
    /// HTTP status as a transport failure (UNAVAILABLE, UNKNOWN), not as the refusal it is.
    /// </summary>
    public static void WriteGrpcError(HttpContext context, StatusCode code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcStatusCodes.ContentType;
        response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = GrpcStatusCodes.EncodeMessage(message);
    }

    /// <summary>The trace id the dashboard shows for this request (32 hex digits), or the request id when nothing is traced.</summary>
    public static string TraceIdOf(HttpContext context) =>
        Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
}

/// <summary>The Open Inference Protocol's error body.</summary>
public sealed record V2Error([property: JsonPropertyName("error")] string Error);

[JsonSerializable(typeof(V2Error))]
internal sealed partial class GatewayErrorsJsonContext : JsonSerializerContext;
