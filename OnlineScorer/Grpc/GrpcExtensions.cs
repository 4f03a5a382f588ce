using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using MlPlatform.OnlineScorer.Serving;

namespace MlPlatform.OnlineScorer.Grpc;

internal static class GrpcExtensions
{
    /// <summary>
    /// The gRPC front end and server reflection. A message may be as large as a REST body (<c>InferenceLimits:MaxRequestBodyBytes</c>),
    /// on <c>ModelStreamInfer</c> per message; a larger one is refused with RESOURCE_EXHAUSTED before it is read.
    /// </summary>
    public static void AddGrpcFrontEnd(this IHostApplicationBuilder builder)
    {
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddOptions<GrpcServiceOptions>().Configure<IOptions<InferenceLimitsOptions>>((grpc, limits) =>
        {
            grpc.MaxReceiveMessageSize = (int)Math.Min(limits.Value.MaxRequestBodyBytes, int.MaxValue);
            // Responses are bounded by the model's outputs for a bounded request; the client sets its own receive limit.
            grpc.MaxSendMessageSize = null;
            grpc.EnableDetailedErrors = false;
        });
    }

    /// <summary>Maps <c>inference.GRPCInferenceService</c> and reflection (served on the HTTP/2-only endpoint named <c>grpc</c>).</summary>
    public static IEndpointRouteBuilder MapInferenceGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<InferenceGrpcService>();
        app.MapGrpcReflectionService();
        return app;
    }
}
