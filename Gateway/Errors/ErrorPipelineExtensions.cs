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

    /// <summary>Stamps every response, errors included, with <see cref="TraceIdHeader"/>.</summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) => app.Use((context, next) =>
    {
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
            detail = TimeoutDetail(context);
        }
        return GatewayErrors.WriteAsync(context, status, ReasonPhrase(status), detail);
    }

    private static (int Status, string Detail) Describe(HttpContext context, IForwarderErrorFeature error, int status)
    {
        if (error.Exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return (StatusCodes.Status413PayloadTooLarge, "The request body exceeds this route's size limit.");
        }
        if (status == StatusCodes.Status504GatewayTimeout || error.Error == ForwarderError.RequestTimedOut)
        {
            return (StatusCodes.Status504GatewayTimeout, TimeoutDetail(context));
        }
        if (error.Error == ForwarderError.NoAvailableDestinations)
        {
            return (StatusCodes.Status503ServiceUnavailable, $"No backend instance is available for this route; retry after {RetryAfter(context)} s.");
        }
        if (error.Error == ForwarderError.Request && IsConnectionRefused(error.Exception))
        {
            // Nothing was sent, so unlike other transport failures (502) the client may safely send the request again, whatever its method.
            return (StatusCodes.Status503ServiceUnavailable,
                $"The backend is not accepting connections (starting, restarting or shutting down); retry after {RetryAfter(context)} s.");
        }
        return error.Error == ForwarderError.RequestBodyClient
            ? (status, "The request body could not be read from the client.")
            : (status, $"The backend could not be reached ({error.Error}).");
    }

    private static bool IsConnectionRefused(Exception? exception)
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

    /// <summary>Sets <c>Retry-After</c> from <see cref="UnavailableBackendOptions"/> and returns its seconds for the message.</summary>
    private static int RetryAfter(HttpContext context)
    {
        var seconds = context.RequestServices.GetRequiredService<IOptions<UnavailableBackendOptions>>().Value.RetryAfterSeconds;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return seconds;
    }

    private static string TimeoutDetail(HttpContext context)
    {
        var policy = context.Features.Get<IReverseProxyFeature>()?.Route.Config.TimeoutPolicy;
        var timeouts = context.RequestServices.GetRequiredService<IOptions<TimeoutOptions>>().Value;
        var timeout = policy is not null && timeouts.For(policy) is { } t ? $" of {t.TotalSeconds:0.###} s ('{policy}')" : "";
        return $"The backend did not answer within this route's timeout{timeout}.";
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
