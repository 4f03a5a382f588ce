using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Errors;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Applies the route's body size limit in the proxy pipeline: a declared length over it is refused before the backend is called;
/// an undeclared (chunked) body is cut off by the server as soon as it passes the limit.
/// </summary>
public sealed class BodySizeLimitMiddleware(RequestDelegate next, IOptions<BodySizeLimitOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.Features.Get<IReverseProxyFeature>()?.Route.Config;
        string? name = null;
        route?.Metadata?.TryGetValue(BodySizeLimitOptions.MetadataKey, out name);
        var limit = options.Value.For(name)
            ?? throw new InvalidOperationException($"Route '{route?.RouteId}' names an unknown body size limit '{name}'.");

        if (context.Request.ContentLength > limit)
        {
            // Answered, and the body the client is still sending drained, by ForwardOutcomeMiddleware.
            return ForwardFailures.Refuse(context, new GatewayAnswer(StatusCodes.Status413PayloadTooLarge, "Payload Too Large",
                $"The request body of {context.Request.ContentLength} bytes exceeds this route's limit of {limit} bytes ('{name ?? "default"}')."));
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit;
        }
        return next(context);
    }
}
