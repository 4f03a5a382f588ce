using Microsoft.AspNetCore.Diagnostics;

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

    /// <summary>Stamps every response, errors included, with <see cref="TraceIdHeader"/>, and notes when the request arrived (for 504 messages).</summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        ForwardFailures.NoteArrival(context);
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[TraceIdHeader] = GatewayErrors.TraceIdOf(ctx);
            return Task.CompletedTask;
        }, context);
        return next(context);
    });

    /// <summary>
    /// Gives every bodiless error the gateway produces outside the proxy pipeline (no route, wrong method, a local endpoint's timeout, an
    /// exception) the platform's error shape. Errors with a body, the backends' included, pass unchanged.
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

        // Proxied requests get their answer from ForwardOutcomeMiddleware (ForwardFailures decides it); what is left here is the
        // gateway's own: no route, a wrong method, the timeout of a local endpoint.
        if (status == StatusCodes.Status504GatewayTimeout)
        {
            detail = ForwardFailures.TimeoutDetail(context, routeTimeout: true);
        }
        return GatewayErrors.WriteAsync(context, status, ReasonPhrase(status), detail);
    }

    private static string ReasonPhrase(int status) => ForwardFailures.ReasonPhrase(status);
}
