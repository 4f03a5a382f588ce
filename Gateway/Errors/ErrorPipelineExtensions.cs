using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Limits;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Errors;

public static class ErrorPipelineExtensions
{
    /// <summary>Registers what the error pipeline needs: problem details and <see cref="UnavailableBackendOptions"/>.</summary>
    public static void AddGatewayErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddOptions<UnavailableBackendOptions>().BindConfiguration(UnavailableBackendOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
    }

    /// <summary>Response header carrying the trace id; the same id names the request's trace in the dashboard.</summary>
    public const string TraceIdHeader = "X-Trace-Id";

    private static readonly object ArrivedAt = new();

    /// <summary>Stamps every response, errors included, with <see cref="TraceIdHeader"/>, and notes when the request arrived (for 504 messages).</summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Items[ArrivedAt] = Stopwatch.GetTimestamp();
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[TraceIdHeader] = GatewayErrors.TraceIdOf(ctx);
            return Task.CompletedTask;
        }, context);
        return next(context);
    });

    /// <summary>
    /// Gives every bodiless error the gateway produces (no route, proxy failures, timeouts, a body over the limit found while streaming)
    /// the platform's error shape. Errors with a body, the backends' included, pass unchanged.
    /// </summary>
    public static IApplicationBuilder UseGatewayErrors(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            ExceptionHandler = context => GatewayErrors.WriteAsync(context, context.Response.StatusCode,
                ReasonPhrase(context.Response.StatusCode), "The gateway failed to handle the request."),
        });
        return app.UseStatusCodePages(context => DescribeAsync(context.HttpContext));
    }

    /// <summary>
    /// Turns a request cut short by its route's timeout into 504. The timeout middleware cancels the request, and YARP sees only a
    /// cancelled request (RequestCanceled, 400); the timeout is recognised here, inside the proxy pipeline, while its token is still alive.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseGatewayTimeoutStatus(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            if (!context.Response.HasStarted
                && context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true })
            {
                context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            }
        });
        return proxy;
    }

    private static Task DescribeAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => $"No route for {context.Request.Method} {context.Request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}.",
            _ => "The gateway could not complete the request.",
        };

        if (context.Features.Get<IForwarderErrorFeature>() is { } forwarderError)
        {
            (status, detail) = Describe(context, forwarderError, status);
        }
        else if (status == StatusCodes.Status504GatewayTimeout)
        {
            detail = TimeoutDetail(context, routeTimeout: true);
        }
        return GatewayErrors.WriteAsync(context, status, ReasonPhrase(status), detail);
    }

    private static (int Status, string Detail) Describe(HttpContext context, IForwarderErrorFeature error, int status)
    {
        if (error.Exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return (StatusCodes.Status413PayloadTooLarge, "The request body exceeds this route's size limit.");
        }
        if (status == StatusCodes.Status504GatewayTimeout)
        {
            return (StatusCodes.Status504GatewayTimeout, TimeoutDetail(context, routeTimeout: true));
        }
        if (error.Error == ForwarderError.RequestTimedOut)
        {
            return (StatusCodes.Status504GatewayTimeout, TimeoutDetail(context, routeTimeout: false));
        }
        if (error.Error == ForwarderError.NoAvailableDestinations || (error.Error == ForwarderError.Request && IsConnectionRefused(error.Exception)))
        {
            // No instance passes its health check, or the one tried refused the connection: either way nothing was sent, so unlike other
            // transport failures (502) the client may safely send the request again, whatever its method.
            return (StatusCodes.Status503ServiceUnavailable, Unavailable(context));
        }
        return error.Error == ForwarderError.RequestBodyClient
            ? (status, "The request body could not be read from the client.")
            : (status, $"The backend could not be reached ({error.Error}).");
    }

    internal static bool IsConnectionRefused(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The 503 message naming the route's backend (its cluster), with <c>Retry-After</c> set.</summary>
    internal static string Unavailable(HttpContext context)
    {
        var backend = context.Features.Get<IReverseProxyFeature>()?.Cluster.Config.ClusterId ?? "backend";
        return $"No live instance of '{backend}' is accepting requests (starting, restarting, stopped or shutting down); retry after {RetryAfter(context)} s.";
    }

    /// <summary>Sets <c>Retry-After</c> from <see cref="UnavailableBackendOptions"/> and returns its seconds for the message.</summary>
    private static int RetryAfter(HttpContext context)
    {
        var seconds = context.RequestServices.GetRequiredService<IOptions<UnavailableBackendOptions>>().Value.RetryAfterSeconds;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    /// <summary>
    /// Says which timeout ended the request and how long it really waited: the route's own (<paramref name="routeTimeout"/>), or the
    /// proxy's activity timeout (the backend sent nothing for that long), which is shorter than the long upload/download routes' timeouts.
    /// </summary>
    private static string TimeoutDetail(HttpContext context, bool routeTimeout)
    {
        var waited = context.Items[ArrivedAt] is long arrived
            ? FormattableString.Invariant($"; waited {Stopwatch.GetElapsedTime(arrived).TotalSeconds:0.#} s")
            : "";
        if (!routeTimeout)
        {
            return $"The backend sent nothing for the proxy's activity timeout{waited}.";
        }
        var policy = context.Features.Get<IReverseProxyFeature>()?.Route.Config.TimeoutPolicy;
        var timeouts = context.RequestServices.GetRequiredService<IOptions<TimeoutOptions>>().Value;
        var timeout = policy is not null && timeouts.For(policy) is { } t ? FormattableString.Invariant($" of {t.TotalSeconds:0.###} s ('{policy}')") : "";
        return $"The backend did not answer within this route's timeout{timeout}{waited}.";
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
