using Microsoft.Extensions.Options;
using MlPlatform.GrpcContracts;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MlPlatform.Gateway.Forwarding;

/// <summary>
/// Marks forwarded requests with a large body <c>Expect: 100-continue</c> (<see cref="EarlyAnswerOptions"/>): the body is sent to the
/// backend only once the backend starts reading it, so a refusal made from the headers reaches the client with its own status. A body
/// the gateway has already received in full is sent at once (<see cref="EarlyAnswerOptions.SendReceivedBodyAtOnce"/>): no race, no round trip.
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
        if (WaitsForContinue(transform.HttpContext.Request, transform.ProxyRequest, options.Value.MinBodyBytes)
            && !(options.Value.SendReceivedBodyAtOnce && HasArrived(transform.HttpContext.Request)))
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

    /// <summary>
    /// Whether the gateway already holds the whole body (a fast client's body that fits Kestrel's request buffer, 1 MiB), looked at
    /// without consuming it. Such a body is written to the backend from memory at once, so a backend answering without reading it
    /// (Kestrel drains an unread body for 5 s) cannot race it, and waiting for the go-ahead would only add a round trip to the hop.
    /// A client that asked for <c>100-continue</c> itself is left alone: looking at its body would send it the go-ahead.
    /// </summary>
    public static bool HasArrived(HttpRequest request)
    {
        // Kestrel buffers at most 1 MiB of a request (MaxRequestBufferSize): a larger body cannot have arrived whole.
        if (request.ContentLength is not { } length || length > MaxBufferedBody || request.Headers.Expect.Count > 0)
        {
            return false;
        }
        try
        {
            if (!request.BodyReader.TryRead(out var result))
            {
                return false;
            }
            var arrived = result.IsCompleted || result.Buffer.Length >= length;
            request.BodyReader.AdvanceTo(result.Buffer.Start);
            return arrived;
        }
        catch (BadHttpRequestException)
        {
            // A body Kestrel refuses (over the route's size limit) is left to the proxy's own read, which reports it as before.
            return false;
        }
    }

    private const long MaxBufferedBody = 1024 * 1024;
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
