using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Limits;

/// <summary>
/// Applies the route's least data rate (<see cref="DataRateOptions"/>) in the proxy pipeline, before the body is read or the response
/// written: Kestrel then ends a request whose body trickles, or a connection whose reader does not keep up.
/// </summary>
public sealed class DataRateMiddleware(RequestDelegate next, IOptions<DataRateOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        string? rate = null;
        context.Features.Get<IReverseProxyFeature>()?.Route.Config.Metadata?.TryGetValue(DataRateOptions.MetadataKey, out rate);
        // HTTP/2 and HTTP/3 streams do not take a per-request rate (Kestrel throws); their flow control applies instead.
        if (rate is not null && HttpProtocol.IsHttp11(context.Request.Protocol))
        {
            var settings = options.Value;
            if (rate.Equals(DataRateOptions.Request, StringComparison.OrdinalIgnoreCase)
                && context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } request)
            {
                request.MinDataRate = new MinDataRate(settings.MinRequestBytesPerSecond, settings.RequestGracePeriod);
            }
            else if (rate.Equals(DataRateOptions.Response, StringComparison.OrdinalIgnoreCase)
                && context.Features.Get<IHttpMinResponseDataRateFeature>() is { } response)
            {
                response.MinDataRate = new MinDataRate(settings.MinResponseBytesPerSecond, settings.ResponseGracePeriod);
            }
        }
        return next(context);
    }
}
