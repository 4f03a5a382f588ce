using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using MlPlatform.Gateway.Limits;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MlPlatform.Gateway.Errors;

public static class ErrorPipelineExtensions
{
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
        return error.Error switch
        {
            _ when status == StatusCodes.Status504GatewayTimeout => (status, TimeoutDetail(context)),
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, TimeoutDetail(context)),
            ForwarderError.NoAvailableDestinations => (StatusCodes.Status503ServiceUnavailable, "No backend instance is available for this route."),
            ForwarderError.RequestBodyClient => (status, "The request body could not be read from the client."),
            _ => (status, $"The backend could not be reached ({error.Error})."),
        };
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
