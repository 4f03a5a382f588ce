using MlPlatform.Gateway.Errors;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Health;

/// <summary>
/// Sends a request once more, to another live instance of the same backend, when the first attempt failed before any response byte:
/// a refused connection (nothing was sent, so any method), or for GET and HEAD any connection that broke before the response headers
/// (a replica killed mid-request). Between a crash and the health check noticing it, clients so see neither a 503 nor a 502 while
/// another instance lives. A GET or HEAD to a backend with one instance is retried on that instance, on a fresh connection: a kept-alive
/// connection to a killed process breaks, a new one is refused (503). Registered before load balancing, which picks among what is left.
/// Whether to retry is <see cref="ForwardFailures.MayRetry"/>'s call; what a failure that is not retried becomes is decided and written
/// once, by <see cref="Forwarding.ForwardOutcomeMiddleware"/>.
/// </summary>
internal static partial class RetryOnAnotherInstance
{
    public static IReverseProxyApplicationBuilder UseRetryOnAnotherInstance(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            var proxyFeature = context.GetReverseProxyFeature();
            var candidates = proxyFeature.AvailableDestinations;
            await next();

            if (context.Features.Get<IForwarderErrorFeature>() is not { } error
                || !ForwardFailures.MayRetry(context, error) || proxyFeature.ProxiedDestination is not { } failed)
            {
                return;
            }
            var others = candidates.Where(d => d != failed).ToList();
            var refused = ForwardFailures.IsConnectionRefused(error.Exception);
            if (others.Count == 0)
            {
                if (refused)
                {
                    return;
                }
                // The only instance: a GET whose pooled connection broke (its process was killed) is tried once more on a new
                // connection, which a dead instance refuses at once (503) and a living one answers.
                others = [failed];
            }
            LogRetry(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RetryOnAnotherInstance)),
                context.Request.Method, context.Request.Path, failed.DestinationId, error.Error);
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            proxyFeature.AvailableDestinations = others;
            await next();
        });
        return proxy;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: instance {Destination} failed before answering ({Error}); trying another instance once")]
    private static partial void LogRetry(ILogger logger, string method, string path, string destination, ForwarderError error);
}
