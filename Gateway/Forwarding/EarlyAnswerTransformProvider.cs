using Microsoft.Extensions.Options;
using MlPlatform.GrpcContracts;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// Marks forwarded requests with a large body <c>Expect: 100-continue</c> (<see cref="EarlyAnswerOptions"/>): the body is sent to the
/// backend only once the backend starts reading it, so a refusal made from the headers reaches the client with its own status.
/// gRPC calls are left alone (HTTP/2 streams end a refused call without that race).
/// </summary>
public sealed class EarlyAnswerTransformProvider(IOptions<EarlyAnswerOptions> options) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(transform =>
    {
        if (WaitsForContinue(transform.HttpContext.Request, transform.ProxyRequest, options.Value.MinBodyBytes))
        {
            transform.ProxyRequest.Headers.ExpectContinue = true;
        }
        return ValueTask.CompletedTask;
    });

    /// <summary>Whether the forwarded request carries a body large enough, or of unknown length, to wait for the backend's go-ahead.</summary>
    public static bool WaitsForContinue(HttpRequest request, HttpRequestMessage proxyRequest, long minBodyBytes) =>
        proxyRequest.Content is not null
        && !GrpcStatusCodes.IsGrpcContentType(request.ContentType)
        && (request.ContentLength is not { } length || length > minBodyBytes);
}

/// <summary>YARP's client to the backends, waiting <see cref="EarlyAnswerOptions.ContinueTimeout"/> for a <c>100 Continue</c> (HttpClient waits 1 s).</summary>
public sealed class EarlyAnswerHttpClientFactory(IOptions<EarlyAnswerOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.Expect100ContinueTimeout = options.Value.ContinueTimeout;
    }
}
